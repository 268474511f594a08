"""The pictures the stand-in draws: one from a prompt and a seed, and a source edited as an edit's mode asks."""

import hashlib
import io
import random
import textwrap

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from imgloop.local.standin.answers import EditRequest


def draw(prompt: str, width: int, height: int, image_format: str, seed: int) -> bytes:
    """A picture that is the same for the same prompt, seed and size, and visibly different otherwise: a sky,
    a horizon and shapes whose colours and places come from a hash of both, with the prompt written on it."""
    return _encoded(picture(prompt, width, height, seed), image_format)


def picture(prompt: str, width: int, height: int, seed: int) -> Image.Image:
    rng = random.Random(hashlib.sha256(f"{seed}\n{prompt}".encode()).digest())
    top, bottom, ground = (tuple(rng.randrange(256) for _ in range(3)) for _ in range(3))
    image = Image.new("RGB", (width, height))
    pen = ImageDraw.Draw(image)
    horizon = int(height * rng.uniform(0.45, 0.75))
    for y in range(0, horizon, 8):
        t = y / horizon
        pen.rectangle((0, y, width, y + 8), fill=tuple(int(a + (b - a) * t) for a, b in zip(top, bottom, strict=True)))
    pen.rectangle((0, horizon, width, height), fill=ground)
    unit = min(width, height)
    for _ in range(rng.randint(3, 7)):
        x, y = rng.randrange(width), rng.randrange(height)
        r = int(unit * rng.uniform(0.05, 0.2))
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice(("sun", "block", "peak"))
        if shape == "sun":
            pen.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        elif shape == "block":
            pen.rectangle((x - r, y - r // 2, x + r, y + r), fill=colour)
        else:
            pen.polygon([(x - 2 * r, horizon), (x, horizon - 3 * r), (x + 2 * r, horizon)], fill=colour)
    size = max(10, unit // 40)
    font = ImageFont.load_default(size=size)
    lines = [*textwrap.wrap(prompt, width=max(16, width // (size * 6 // 10)))[:12], f"seed {seed}"]
    band = (len(lines) + 1) * (size + 6)
    pen.rectangle((0, height - band, width, height), fill=(0, 0, 0))
    for i, line in enumerate(lines):
        pen.text((size, height - band + size // 2 + i * (size + 6)), line, fill=(255, 255, 255), font=font)
    return image


def _encoded(image: Image.Image, image_format: str) -> bytes:
    out = io.BytesIO()
    image.save(out, format=image_format)
    return out.getvalue()


# How far a spilled edit shifts every channel of the whole picture, outside the mask too (modulo 256): at
# least a quarter of full scale per pixel, far above Validate's limit, and plain to see.
SPILL_SHIFT = 64
# How often erase blurs its fill: enough to carry the edge's colours about 25 px into the region at an
# eighth of the size, which is 200 px in the picture.
DIFFUSION_STEPS = 60


def edit(request: EditRequest, prompt: str, image_format: str, seed: int, spill: bool = False) -> bytes:
    """The source edited as the mode asks; the new content is a picture drawn from the prompt and seed.

    image-to-image blends the source toward that picture by `strength`; inpaint paints it into the mask's
    white region only; erase fills the masked region from the colours around it; search-replace paints
    the central third (the stand-in cannot find the object named); outpaint grows the canvas by the
    margins, the new picture around the untouched source."""
    source = Image.open(io.BytesIO(request.source)).convert("RGB")
    width, height = source.size
    if request.mode == "image-to-image":
        result = Image.blend(source, picture(prompt, width, height, seed), request.strength)
    elif request.mode == "outpaint":
        left, right, up, down = request.margins
        result = picture(prompt, width + left + right, height + up + down, seed)
        result.paste(source, (left, up))
    else:
        region = _region(request, source)
        new = _surroundings(source, region) if request.mode == "erase" else _painted(prompt, region, seed)
        result = Image.composite(new, source, region)
    if spill:
        result = ImageChops.add_modulo(result, Image.new("RGB", result.size, (SPILL_SHIFT,) * 3))
    return _encoded(result, image_format)


def _region(request: EditRequest, source: Image.Image) -> Image.Image:
    """What the edit may change, white on black: the mask, else (as Stability's services read it) the
    source's transparent pixels, else everything; for search-replace, the central third."""
    width, height = source.size
    if request.mode == "search-replace":
        region = Image.new("L", source.size, 0)
        ImageDraw.Draw(region).rectangle((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=255)
        return region
    if request.mask is not None:
        mask = Image.open(io.BytesIO(request.mask)).convert("L").resize(source.size)
        return mask.point(lambda v: 255 if v >= 128 else 0)
    original = Image.open(io.BytesIO(request.source))
    if "A" in original.getbands():
        return original.getchannel("A").point(lambda v: 255 if v < 128 else 0)
    return Image.new("L", source.size, 255)


def _painted(prompt: str, region: Image.Image, seed: int) -> Image.Image:
    """A picture of the prompt drawn to fill the region's bounding box, so that all of it (the prompt
    written at its foot included) shows where the edit went."""
    canvas = Image.new("RGB", region.size)
    box = region.getbbox()
    if box is not None:
        left, top, right, bottom = box
        canvas.paste(picture(prompt, right - left, bottom - top, seed), (left, top))
    return canvas


def _surroundings(source: Image.Image, region: Image.Image) -> Image.Image:
    """The colours around the region diffused into it: starting from their mean, the region is blurred
    again and again while the kept pixels stay fixed, so each filled pixel takes the colour of the edge
    nearest it. Done at an eighth of the size, since only a smooth fill is wanted."""
    small = (max(1, source.width // 8), max(1, source.height // 8))
    around = source.resize(small)
    kept = ImageOps.invert(region).resize(small).point(lambda v: 255 if v >= 128 else 0)
    if kept.getbbox() is None:
        return around.resize(source.size)  # nothing is kept: there are no surroundings to fill from
    mean = ImageStat.Stat(around, mask=kept).mean
    filled = Image.new("RGB", small, tuple(round(v) for v in mean))
    for _ in range(DIFFUSION_STEPS):
        filled.paste(around, mask=kept)
        filled = filled.filter(ImageFilter.GaussianBlur(2))
    filled.paste(around, mask=kept)
    return filled.resize(source.size, Image.Resampling.BILINEAR)

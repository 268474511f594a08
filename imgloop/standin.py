"""A Bedrock stand-in at the botocore level: the handlers send their real request bodies and parse
realistic responses, so local runs and tests exercise the same code that runs on AWS.

It answers InvokeModel in each image family's response shape, with a picture drawn from the prompt and
the seed (or, for an edit, the source image edited as the mode asks), and Converse with a forced tool
call: a verdict, or a prompt rewritten in the target model's style from the judge's reasons. A scenario
adds the demo's refusals, rejections and throttling, and edits that spill outside their mask.
"""

import hashlib
import io
import json
import random
import re
import textwrap
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont, ImageOps, ImageStat

from common.catalogue import lookup
from imgloop.answers import (
    END_OF_LIFE,
    PROMPT_NOT_ENGLISH,
    THROTTLED,
    Answered,
    EditRequest,
    ImageRequest,
    failed,
    filtered_response,
    image_response,
    invoke_model_output,
    ok,
    tool_use_reply,
)
from imgloop.triggers import Triggers

_URL = "https://bedrock-runtime.local"


@dataclass
class Scenario:
    reject_first: int = 0  # the judge says no to the first K images
    fail_generate_first: int = 0  # the image model rejects its first K prompts (as SD3.5 rejects Japanese)
    throttle_first: int = 0  # the first K Bedrock calls of any kind are throttled
    # Models the catalogue lists as EOL are answered as Bedrock answers a retired model, so a local run
    # fails where a run on AWS would; off only to see a retired family's own response shapes.
    honour_lifecycle: bool = True
    # Every edit also recolours the whole picture, outside its mask (or region) too, as a careless model
    # might, so that Validate's outside-mask guard can be seen to catch it.
    spill_edits: bool = False
    # Refusals, rejections and throttling aimed at chosen prompts, not at the first calls.
    triggers: Triggers = field(default_factory=Triggers)


@dataclass
class Call:
    operation: str
    model_id: str
    body: dict[str, Any]


@dataclass
class BedrockStandIn:
    scenario: Scenario = field(default_factory=Scenario)
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: dict[str, int] = field(default_factory=lambda: {"all": 0, "generate": 0, "judge": 0, "revise": 0})
    _subjects: Counter[tuple[str, str]] = field(default_factory=Counter)

    def register(self, events: Any) -> None:
        events.register("before-call.bedrock-runtime.InvokeModel", self._on_invoke_model)
        events.register("before-call.bedrock-runtime.Converse", self._on_converse)

    def calls_of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def _admit(self, kind: str, subject: str) -> int | None:
        """None when this call is throttled; else how many calls of its kind reached the model. The
        subject is what the call is about: the prompt, or the requirement."""
        with self._lock:
            self._counts["all"] += 1
            self._subjects[kind, subject] += 1
            if (
                self._counts["all"] <= self.scenario.throttle_first
                or self._subjects[kind, subject] <= self.scenario.triggers.throttle_each
            ):
                return None
            self._counts[kind] += 1
            return self._counts[kind]

    def _record(self, operation: str, params: dict[str, Any]) -> Call:
        model_id = unquote(params["url_path"].split("/model/", 1)[1].rsplit("/", 1)[0])
        call = Call(operation=operation, model_id=model_id, body=json.loads(params["body"] or b"{}"))
        with self._lock:
            self.calls.append(call)
        return call

    def _retired(self, model_id: str) -> bool:
        info = lookup(model_id)
        return self.scenario.honour_lifecycle and info is not None and info.status == "EOL"

    def _on_invoke_model(self, params: dict[str, Any], **_: Any) -> Answered:
        call = self._record("InvokeModel", params)
        if self._retired(call.model_id):
            return failed(END_OF_LIFE, _URL)
        request = ImageRequest.read(call.body)
        nth = self._admit("generate", request.prompt)
        if nth is None:
            return failed(THROTTLED, _URL)
        if nth <= self.scenario.fail_generate_first:
            return failed(PROMPT_NOT_ENGLISH, _URL)
        if self.scenario.triggers.refuses(request.prompt):
            return ok(invoke_model_output(filtered_response(request.family, request.seed)), _URL)
        if request.edit is not None:
            images = [edit(request.edit, request.prompt, request.image_format, request.seed, self.scenario.spill_edits)]
        else:
            images = [
                draw(request.prompt, request.width, request.height, request.image_format, request.seed + i)
                for i in range(request.count)
            ]
        return ok(invoke_model_output(image_response(request.family, request.seed, images)), _URL)

    def _on_converse(self, params: dict[str, Any], **_: Any) -> Answered:
        call = self._record("Converse", params)
        if self._retired(call.model_id):
            return failed(END_OF_LIFE, _URL)
        tool = call.body["toolConfig"]["tools"][0]["toolSpec"]["name"]
        kind = "judge" if tool == "record_verdict" else "revise"
        requirement = _requirement(_texts(call.body["messages"][0]["content"]))
        nth = self._admit(kind, requirement)
        if nth is None:
            return failed(THROTTLED, _URL)
        passed = nth > self.scenario.reject_first and not self.scenario.triggers.rejects(requirement)
        answer = verdict(call.body, nth, passed) if kind == "judge" else _proposal(call.body)
        return ok(tool_use_reply(tool, answer, f"tool-{nth}"), _URL)


def _texts(blocks: list[dict[str, Any]]) -> str:
    return " ".join(b["text"] for b in blocks if isinstance(b.get("text"), str))


def _between(text: str, tag: str) -> str:
    start, end = f"<{tag}>", f"</{tag}>"
    return text.split(start, 1)[1].split(end, 1)[0].strip() if start in text and end in text else ""


def _requirement(text: str) -> str:
    return _between(text, "requirement") or text


def _elements(requirement: str) -> list[str]:
    return [part.strip() for part in requirement.replace("、", ",").split(",") if part.strip()]


def verdict(body: dict[str, Any], nth: int, passed: bool) -> dict[str, Any]:
    """A judge that finds a different element missing on each image, so the reviser has new reasons."""
    text = _texts(body["messages"][0]["content"])
    requirement = _requirement(text)
    elements = _elements(requirement)[:6]
    missing = elements[(nth - 1) % len(elements)] if elements else requirement
    shown = {e: passed or e != missing for e in elements}
    checks = [{"requirement": e, "ok": shown[e], "evidence": "visible" if shown[e] else "absent"} for e in elements]
    if "Source image:" in text:
        # An edit is shown its source first: the judge also vouches for what was to stay the same.
        checks.append({"requirement": "the rest of the source is kept", "ok": True, "evidence": "as in the source"})
    return {
        "pass": passed,
        "score": 9 if passed else 4,
        "checks": checks,
        "primary_issue": "" if passed else f"'{missing}' is not clearly shown",
        "suggested_fix": "" if passed else f"show {_lower_first(missing)} larger, centred and in sharp focus",
    }


_SUGGESTED_FIX = re.compile(r"\(suggested fix: (.+)\)\s*$", re.MULTILINE)
# "without people", "no text": what the guidelines want in the negative prompt, not in the prompt.
_NEGATION = re.compile(r"\s*\b(?:without|no)\s+([^,.;]+)", re.IGNORECASE)
_QUALITY = ["blurry", "distorted", "watermark"]  # what every negative prompt should exclude
# The strength an image-to-image edit ran at, as the reviser's <edit> block states it, and how much more
# the stand-in asks for after a failure.
_STRENGTH = re.compile(r"Strength is ([0-9.]+)")
STRENGTH_STEP = 0.4


def _proposal(body: dict[str, Any]) -> dict[str, Any]:
    """The requirement restated in the style the system prompt's guidelines ask for, the judge's fixes folded in.

    Without a <failures> block the request is a translation, answered with the preamble the reviser strips
    (S4 saw Claude v2 add it)."""
    text = _texts(body["messages"][0]["content"])
    requirement = _between(text, "requirement")
    if "<failures>" not in text:
        return {"prompt": f"Here is the translation: English rendering of '{requirement}'", "negative_prompt": ""}
    written = _elements(requirement)
    kept = [_NEGATION.sub("", e).strip() for e in written]
    wanted = [e for e in kept if e] or [requirement]
    fixes = list(dict.fromkeys(_SUGGESTED_FIX.findall(_between(text, "failures"))))
    for before, after in zip(written, kept, strict=True):
        fixes = [fix.replace(_lower_first(before), _lower_first(after)) for fix in fixes]
    stressed = [e for e in wanted if any(_lower_first(e) in fix for fix in fixes)]
    guidelines = _texts(body.get("system", []))
    if "comma-separated" in guidelines:  # SDXL: weighted concepts, the important ones first
        concepts = [f"({e}:1.3)" for e in stressed] + [e for e in wanted if e not in stressed]
        prompt = ", ".join([*concepts, "highly detailed", "sharp focus"])
    elif "caption" in guidelines:  # Nova Canvas, Titan: a caption, never a command
        prompt = f"a photo of {_lower_first(', '.join(wanted))}, in sharp focus"
        if stressed:
            prompt += f", with {' and '.join(_lower_first(e) for e in stressed)} large and centred"
    else:  # SD3.5: natural sentences
        prompt = ". ".join([", ".join(wanted), *(fix[:1].upper() + fix[1:] for fix in fixes)]) + "."
    negatives = [n.strip() for n in _between(text, "last_negative_prompt").split(",")]
    negatives += [n.strip() for n in _NEGATION.findall(requirement)]
    proposal: dict[str, Any] = {
        "prompt": prompt,
        "negative_prompt": ", ".join(dict.fromkeys(n for n in [*negatives, *_QUALITY] if n)),
    }
    strength = _STRENGTH.search(_between(text, "edit"))
    if strength:
        # An image-to-image edit that failed asks for more change: a bolder step than the reviser may take.
        proposal |= {"strength": round(float(strength.group(1)) + STRENGTH_STEP, 3), "why": "the change is too faint"}
    return proposal


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


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

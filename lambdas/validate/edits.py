"""Judging an edit: the judge sees the source (and the mask) beside the result, and a measured guard
checks that a masked edit left the rest of the picture alone, whatever a judge would say."""

import io
from dataclasses import dataclass
from typing import Any

from common.contracts import converse_images
from common.image_files import probe
from common.images import read_edited
from common.sections import MODE_TAKES
from common.tasks import ValidateTask

EDIT_RUBRIC = """
This is an edit. The user message holds the source image, for a masked edit the mask (white marks
the region that was to change), and then the result. The requirement says what the edit must
achieve. The result passes only if the requested change is visible AND everything the edit was to
keep (outside the mask, or outside the named object) still looks as it does in the source."""

# Mean absolute difference outside the mask, as a share of full scale, above which a masked edit
# is said to have spilled: re-encoding and blending at the mask's edge stay well below it.
SPILL_LIMIT = 0.04
MASKED_MODES = tuple(mode for mode, takes in MODE_TAKES.items() if "mask_image" in takes)


@dataclass(frozen=True)
class EditImages:
    source: bytes
    mask: bytes | None


def edit_images(task: ValidateTask, s3: Any) -> EditImages | None:
    source, mask = task.edit.source_image, task.edit.mask_image
    if source is None:
        return None
    return EditImages(
        source=read_edited(s3, source.bucket, source.key),
        mask=read_edited(s3, mask.bucket, mask.key) if mask else None,
    )


def edit_content(edit: EditImages, result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The judge's images in order: source, mask, then the result blocks."""
    content = [{"text": "Source image:"}, image_block(edit.source)]
    if edit.mask is not None:
        content += [{"text": "Mask (white = the region that was to change):"}, image_block(edit.mask)]
    return [*content, {"text": "Result:"}, *result]


# What the judges take: Claude scales an image down past 1568 px on its long edge (and bills its tokens
# by width x height / 750), and Converse refuses images over its contract's bytes (3.75 MB).
MAX_JUDGED_SIDE = 1568
MAX_JUDGED_BYTES: int = converse_images()["max_bytes"]
# A photograph's 1568 px PNG can still be larger than that: JPEG qualities tried then, best first.
_JPEG_QUALITIES = (90, 75, 60, 45)


def image_block(data: bytes, image_format: str = "png") -> dict[str, Any]:
    """A Converse image block, the picture scaled down first where the judge could not use it all (a
    file no header names goes as it is, in the format the caller says)."""
    found = probe(data)
    if found is None or (max(found.width, found.height) <= MAX_JUDGED_SIDE and len(data) <= MAX_JUDGED_BYTES):
        return {"image": {"format": found.format if found else image_format, "source": {"bytes": data}}}
    from PIL import Image

    opened = Image.open(io.BytesIO(data))
    opened.thumbnail((MAX_JUDGED_SIDE, MAX_JUDGED_SIDE))
    picture = opened.convert("RGB")
    encoded = _encoded(picture, "PNG")
    if len(encoded) <= MAX_JUDGED_BYTES:
        return {"image": {"format": "png", "source": {"bytes": encoded}}}
    for quality in _JPEG_QUALITIES:
        encoded = _encoded(picture, "JPEG", quality=quality)
        if len(encoded) <= MAX_JUDGED_BYTES:
            break
    # A 1568 px JPEG at quality 45 is far below the limit; the last one goes whatever its size.
    return {"image": {"format": "jpeg", "source": {"bytes": encoded}}}


def _encoded(picture: Any, image_format: str, **options: int) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=image_format, **options)
    return out.getvalue()


def change_outside_mask(source: bytes, mask: bytes, result: bytes) -> float:
    """How much the result differs from the source where the mask is black (kept), 0 to 1."""
    # Imported here: only masked edits need an imaging library (a layer of its own on Lambda).
    from PIL import Image, ImageChops, ImageStat

    original = Image.open(io.BytesIO(source)).convert("RGB")
    edited = Image.open(io.BytesIO(result)).convert("RGB").resize(original.size)
    kept = Image.open(io.BytesIO(mask)).convert("L").resize(original.size).point(lambda v: 255 if v < 128 else 0)
    if kept.getbbox() is None:
        return 0.0  # the mask covers everything: nothing was to stay
    # The mean of the three channels: a change in any colour counts fully (luma would weigh blue at 0.11).
    difference = ImageChops.difference(original, edited)
    return sum(ImageStat.Stat(difference, mask=kept).mean) / (3 * 255)

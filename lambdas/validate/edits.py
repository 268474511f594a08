"""Judging an edit: the judge sees the source (and the mask) beside the result, and a measured guard
checks that a masked edit left the rest of the picture alone, whatever a judge would say."""

import io
from dataclasses import dataclass
from typing import Any

from common.errors import ImageMissing
from common.image_files import probe
from common.sections import S3Image
from common.tasks import ValidateTask

EDIT_RUBRIC = """
This is an edit. The user message holds the source image, for a masked edit the mask (white marks
the region that was to change), and then the result. The requirement says what the edit must
achieve. The result passes only if the requested change is visible AND everything the edit was to
keep (outside the mask, or outside the named object) still looks as it does in the source."""

# Mean absolute difference outside the mask, as a share of full scale, above which a masked edit
# is said to have spilled: re-encoding and blending at the mask's edge stay well below it.
SPILL_LIMIT = 0.04
MASKED_MODES = ("inpaint", "erase")


@dataclass(frozen=True)
class EditImages:
    source: bytes
    mask: bytes | None


def edit_images(task: ValidateTask, s3: Any) -> EditImages | None:
    if task.source_image is None:
        return None
    mask = read(s3, task.mask_image) if task.mask_image else None
    return EditImages(source=read(s3, task.source_image), mask=mask)


def read(s3: Any, image: S3Image) -> bytes:
    try:
        return bytes(s3.get_object(Bucket=image.bucket, Key=image.key)["Body"].read())
    except s3.exceptions.NoSuchKey as error:
        raise ImageMissing(f"{image.uri} is gone (it was checked when the run started)") from error


def edit_content(edit: EditImages, result: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The judge's images in order: source, mask, then the result blocks."""
    content = [{"text": "Source image:"}, image_block(edit.source)]
    if edit.mask is not None:
        content += [{"text": "Mask (white = the region that was to change):"}, image_block(edit.mask)]
    return [*content, {"text": "Result:"}, *result]


def image_block(data: bytes) -> dict[str, Any]:
    found = probe(data)
    return {"image": {"format": found.format if found else "png", "source": {"bytes": data}}}


def change_outside_mask(source: bytes, mask: bytes, result: bytes) -> float:
    """How much the result differs from the source where the mask is black (kept), 0 to 1."""
    # Imported here: only masked edits need an imaging library (a layer of its own on Lambda).
    from PIL import Image, ImageChops, ImageStat

    original = Image.open(io.BytesIO(source)).convert("RGB")
    edited = Image.open(io.BytesIO(result)).convert("RGB").resize(original.size)
    kept = Image.open(io.BytesIO(mask)).convert("L").resize(original.size).point(lambda v: 255 if v < 128 else 0)
    if kept.getbbox() is None:
        return 0.0  # the mask covers everything: nothing was to stay
    difference = ImageChops.difference(original, edited).convert("L")
    return float(ImageStat.Stat(difference, mask=kept).mean[0]) / 255

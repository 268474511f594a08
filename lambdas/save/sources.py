"""The images an edit starts from, checked before the run opens: readable, in an allowed bucket, a
PNG, JPEG or WebP of a size the model takes, and a mask the size of its source."""

from typing import Any

from botocore.exceptions import ClientError

from common.errors import InvalidInput
from common.image_files import HEADER_BYTES, ImageFile, probe
from common.names import UPLOADS_PREFIX
from common.request import RunRequest
from common.sections import S3Image
from common.settings import Settings


def check_sources(request: RunRequest, settings: Settings, s3: Any) -> None:
    if request.source_image is None:
        return
    source = _image("source_image", request.source_image, settings, s3)
    problem = request.generator.source_problem(source.width, source.height)
    if problem:
        raise InvalidInput(f"source_image: {problem} for {request.generator.model_id}")
    if request.mask_image is not None:
        mask = _image("mask_image", request.mask_image, settings, s3)
        if (mask.width, mask.height) != (source.width, source.height):
            raise InvalidInput(
                f"mask_image: {mask.width}x{mask.height} must be the size of source_image "
                f"({source.width}x{source.height})"
            )


def _image(field: str, image: S3Image, settings: Settings, s3: Any) -> ImageFile:
    if image.bucket not in settings.allowed_buckets:
        raise InvalidInput(
            f"{field}: s3://{image.bucket}/ is not a bucket this stack may read (allowed: "
            f"{', '.join(settings.allowed_buckets)}); upload to the stack's bucket under {UPLOADS_PREFIX}/"
        )
    try:
        head = s3.get_object(Bucket=image.bucket, Key=image.key, Range=f"bytes=0-{HEADER_BYTES - 1}")["Body"].read()
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise InvalidInput(f"{field}: {image.uri} cannot be read ({code})") from None
    found = probe(head)
    if found is None:
        raise InvalidInput(f"{field}: {image.uri} is not a PNG, JPEG or WebP image")
    return found

"""Local image files for an edit (`--image`, `--mask`): checked, put in the stack's bucket under
`uploads/<execution name>/`, and named in the event as its `source_image` and `mask_image`.

Each key carries a digest of the file, so a name used again (which Step Functions refuses) can never
overwrite the image an earlier run of that name was made from."""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.image_files import probe
from common.names import UPLOADS_PREFIX
from imgloop.errors import UsageError
from imgloop.runs.executions import EDITED_IMAGES, EXTENSIONS

# The option that sends each field's file.
OPTIONS = {"source_image": "--image", "mask_image": "--mask"}
_CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}


@dataclass(frozen=True)
class Upload:
    field: str  # source_image or mask_image
    key: str
    data: bytes
    content_type: str


def read_uploads(event: Any, execution_name: str, files: dict[str, Path | None]) -> list[Upload]:
    """The files given for each field ({"source_image": path, "mask_image": path or None}), as uploads for
    this execution; a UsageError if a file is missing or not an image, or the event names the field."""
    from common.keys import EXECUTION_NAME_PATTERN, EXECUTION_NAME_RULE

    if any(files.values()) and not re.match(EXECUTION_NAME_PATTERN, execution_name):
        # The name becomes a folder of the upload's key: checked before anything is sent.
        raise UsageError(f"execution name {execution_name!r}: must be {EXECUTION_NAME_RULE}")
    uploads = []
    for field, path in files.items():
        if path is None:
            continue
        option = OPTIONS[field]
        if not isinstance(event, dict):
            raise UsageError(f"{option}: the event must be a JSON object, to name the image in its {field}")
        if event.get(field) is not None:
            raise UsageError(f"{option}: the event already names {field}; give the image one way only")
        try:
            data = path.read_bytes()
        except OSError as error:
            raise UsageError(f"{option} {path}: cannot read it: {error.strerror or error}") from None
        found = probe(data)
        if found is None:
            raise UsageError(f"{option} {path}: not a PNG, JPEG or WebP image")
        digest = hashlib.sha256(data).hexdigest()[:12]
        key = f"{UPLOADS_PREFIX}/{execution_name}/{EDITED_IMAGES[field]}-{digest}.{EXTENSIONS[found.format]}"
        uploads.append(Upload(field, key, data, _CONTENT_TYPES[found.format]))
    return uploads


def put_uploads(s3: Any, bucket: str, uploads: Sequence[Upload]) -> None:
    for upload in uploads:
        s3.put_object(Bucket=bucket, Key=upload.key, Body=upload.data, ContentType=upload.content_type)


def naming(event: Any, bucket: str, uploads: Sequence[Upload]) -> Any:
    """The event with each uploaded image named in its field, as s3://bucket/key."""
    if not uploads:
        return event
    return {**event, **{upload.field: f"s3://{bucket}/{upload.key}" for upload in uploads}}

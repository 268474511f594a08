"""What `POST /uploads` answers: a new key under the bucket's uploads prefix and a presigned PUT URL for
it, so a client can send the image to edit (or a batch's items file) before it starts the run that
names it."""

import json
import uuid
from typing import Any, Literal

from pydantic import ConfigDict, ValidationError

from common.batches import STORED_NAMES, Format
from common.errors import InvalidInput
from common.model import Model
from common.request import explain
from status.logic import URL_SECONDS

ContentType = Literal[
    "image/png", "image/jpeg", "image/webp", "application/x-ndjson", "text/csv", "text/plain", "application/json"
]
# A batch's items file gets the extension its form is read by, so the batch needs no `format`.
_BATCH_INPUTS: dict[str, Format] = {
    "application/x-ndjson": "jsonl",
    "text/csv": "csv",
    "text/plain": "text",
    "application/json": "json",
}
_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    **{kind: STORED_NAMES[form].rsplit(".", 1)[1] for kind, form in _BATCH_INPUTS.items()},
}


class UploadRequest(Model):
    model_config = ConfigDict(extra="forbid", strict=True)

    content_type: ContentType = "image/png"


class S3Object(Model):
    bucket: str
    key: str


class Upload(Model):
    # The request's own form, to paste as source_image or mask_image (or as a batch's input).
    source_image: S3Object
    s3_uri: str
    upload_url: str
    method: Literal["PUT"] = "PUT"
    # The PUT must send these headers: the content type is part of the signature.
    headers: dict[str, str]
    expires_in: int = URL_SECONDS


def new_upload(body: str | None, bucket: str, prefix: str, s3: Any) -> Upload:
    """A fresh key under the prefix with its PUT URL; InvalidInput names what is wrong with the body."""
    request = _read(body)
    key = f"{prefix}/{uuid.uuid4().hex}.{_EXTENSIONS[request.content_type]}"
    url = s3.generate_presigned_url(
        "put_object",
        Params={"Bucket": bucket, "Key": key, "ContentType": request.content_type},
        ExpiresIn=URL_SECONDS,
    )
    return Upload(
        source_image=S3Object(bucket=bucket, key=key),
        s3_uri=f"s3://{bucket}/{key}",
        upload_url=url,
        headers={"Content-Type": request.content_type},
    )


def _read(body: str | None) -> UploadRequest:
    if not body or not body.strip():
        return UploadRequest()
    try:
        return UploadRequest.model_validate(json.loads(body))
    except ValidationError as error:  # before ValueError, which it is a kind of
        raise InvalidInput(explain(error)) from None
    except ValueError:
        raise InvalidInput('body: must be JSON, e.g. {"content_type": "image/png"}') from None

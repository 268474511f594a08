"""A run's image files: their metadata, and the move from staging to the canonical key.

Generate writes each image to staging with its metadata (S3 metadata is ASCII: values are
percent-encoded and shortened to fit S3's 2 KB limit); Save files it under its canonical key with
a copy that keeps the metadata. Whatever a failed run left in staging is filed when the run closes.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from botocore.exceptions import ClientError

from common.errors import ImageMissing
from common.keys import STAGING_PREFIX, is_image_name

_METADATA_BUDGET = 1500
_MISSING = ("404", "NoSuchKey", "NotFound")


def encode_metadata(values: dict[str, str]) -> dict[str, str]:
    texts = dict(values)

    def encoded() -> dict[str, str]:
        return {name: quote(value, safe=" ,.:;/-_()'") for name, value in texts.items()}

    result = encoded()
    while sum(len(k) + len(v) for k, v in result.items()) > _METADATA_BUDGET:
        # Shorten the text, not its encoding, so no character is cut in half.
        longest = max(result, key=lambda name: len(result[name]))
        texts[longest] = texts[longest][: len(texts[longest].removesuffix("...")) // 2] + "..."
        result = encoded()
    return result


def decode_metadata(metadata: dict[str, str]) -> dict[str, str]:
    return {name: unquote(value) for name, value in metadata.items()}


def file_image(s3: Any, bucket: str, staging_key: str, key: str) -> None:
    """Move a staged image to its key; a retry after a completed move finds it there and is done."""
    try:
        s3.head_object(Bucket=bucket, Key=staging_key)
    except ClientError as error:
        if error.response["Error"]["Code"] not in _MISSING:
            raise
        s3.head_object(Bucket=bucket, Key=key)
        return
    s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": staging_key}, MetadataDirective="COPY")
    s3.delete_object(Bucket=bucket, Key=staging_key)


@dataclass(frozen=True)
class StoredImage:
    key: str
    metadata: dict[str, str]


def image_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    """The keys of the run images directly under a prefix."""
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(item["Key"] for item in page.get("Contents", []) if is_image_name(item["Key"][len(prefix) :]))
    return keys


def file_staged_images(s3: Any, bucket: str, folder: str) -> None:
    """File what a run left in staging: generated, but never moved by Save."""
    prefix = f"{STAGING_PREFIX}/{folder}/"
    for staging_key in image_keys(s3, bucket, prefix):
        file_image(s3, bucket, staging_key, f"{folder}/{staging_key[len(prefix) :]}")


def stored_image(s3: Any, bucket: str, key: str) -> StoredImage:
    return StoredImage(key=key, metadata=decode_metadata(s3.head_object(Bucket=bucket, Key=key).get("Metadata", {})))


def read_edited(s3: Any, bucket: str, key: str) -> bytes:
    """An image an edit works on (its source or mask), which "Check input" read. Without ListBucket
    S3 answers a deleted key with 403, not 404: either way the image is gone."""
    try:
        return bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "AccessDenied", *_MISSING):
            raise
        raise ImageMissing(f"s3://{bucket}/{key} is gone (it was read when the run started)") from None

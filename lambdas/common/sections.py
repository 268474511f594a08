"""The parts of a run request: field rules shared by several sections (bucket names, key prefixes,
model ids, plain text), the output, judge and reviser sections, and what an edit works on."""

import re
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, field_validator, model_validator

from common.model import Model

MODEL_ID = re.compile(
    r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?$"  # model id or cross-region inference profile id
    r"|^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:(\d{12})?:"  # foundation-model ARNs have no account
    r"(foundation-model|inference-profile|application-inference-profile|provisioned-model)/[A-Za-z0-9.:_-]+$"
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class Strict(Model):
    # Strict: "3" is not 3 and "yes" is not true, as in the API's JSON schema.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OutputConfig(Strict):
    bucket: str
    prefix: str = "generated-images"

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        return valid_bucket(value)

    @field_validator("prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        return valid_prefix(value)


def valid_bucket(value: str) -> str:
    if not _BUCKET.match(value) or ".." in value:
        raise ValueError("must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")
    return value


def valid_prefix(value: str) -> str:
    """A key prefix of '/'-separated safe parts, so no key built on it can leave the run's folder."""
    segments = value.strip("/").split("/")
    if len(value) > 200 or not all(_PREFIX_SEGMENT.match(s) for s in segments):
        raise ValueError(
            "must be up to 200 characters of '/'-separated parts made of letters, digits, '.', '_' "
            "and '-', each starting with a letter or digit"
        )
    return "/".join(segments)


def _s3_uri(value: Any) -> Any:
    """s3://bucket/key, the form people write, as the structured form."""
    if isinstance(value, str) and value.startswith("s3://"):
        bucket, _, key = value.removeprefix("s3://").partition("/")
        return {"bucket": bucket, "key": key}
    return value


class S3Image(Strict):
    """An image in S3 to edit (or its mask): `s3://bucket/key` or `{"bucket": ..., "key": ...}`."""

    bucket: str
    key: str = Field(min_length=1, max_length=1024)

    @field_validator("bucket")
    @classmethod
    def _bucket_name(cls, value: str) -> str:
        return valid_bucket(value)

    @field_validator("key")
    @classmethod
    def _plain_key(cls, value: str) -> str:
        if CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


# The s3:// form is a string in the API's JSON schema too (the bucket's rules hold for it as well).
S3_URI = r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+"
ImageRef = Annotated[
    S3Image,
    BeforeValidator(_s3_uri, json_schema_input_type=Annotated[str, StringConstraints(pattern=S3_URI)] | S3Image),
]


class Margins(Strict):
    """How far to grow the canvas on each side, in pixels (outpainting)."""

    left: int = Field(default=0, ge=0, le=2000)
    right: int = Field(default=0, ge=0, le=2000)
    up: int = Field(default=0, ge=0, le=2000)
    down: int = Field(default=0, ge=0, le=2000)

    @model_validator(mode="after")
    def _grows(self) -> "Margins":
        if not (self.left or self.right or self.up or self.down):
            raise ValueError("at least one of left, right, up and down must be more than 0")
        return self


Mode = Literal["text-to-image", "image-to-image", "inpaint", "outpaint", "search-replace", "erase"]
# What each mode needs besides the prompt ("|" : one of them), and what it may take.
MODE_NEEDS: dict[str, tuple[str, ...]] = {
    "text-to-image": (),
    "image-to-image": ("source_image",),
    "inpaint": ("source_image", "mask_image|mask_prompt"),
    "outpaint": ("source_image", "outpaint"),
    "search-replace": ("source_image", "search_prompt"),
    "erase": ("source_image", "mask_image"),
}
MODE_TAKES: dict[str, tuple[str, ...]] = {
    "text-to-image": (),
    "image-to-image": ("source_image", "strength"),
    "inpaint": ("source_image", "mask_image", "mask_prompt"),
    "outpaint": ("source_image", "outpaint"),
    "search-replace": ("source_image", "search_prompt"),
    "erase": ("source_image", "mask_image"),
}
EDIT_FIELDS = ("source_image", "mask_image", "mask_prompt", "strength", "search_prompt", "outpaint")
DEFAULT_STRENGTH = 0.5


class ConverseConfig(Strict):
    """A judge or reviser: any Bedrock model that takes images through the Converse API."""

    model_id: str
    temperature: float | None = Field(default=None, ge=0, le=1)
    top_p: float | None = Field(default=None, ge=0, le=1)
    top_k: int | None = Field(default=None, ge=0, le=500)
    max_tokens: int = Field(default=2048, ge=256, le=128000)

    @field_validator("model_id")
    @classmethod
    def _model_id(cls, value: str) -> str:
        return valid_model_id(value)


def valid_model_id(value: str) -> str:
    if not MODEL_ID.match(value):
        raise ValueError("must be a Bedrock model id, inference profile id or ARN")
    return value

"""The run request: one structured shape, the seed systems' flat events mapped onto it, and its rules.

Limits: `max_retry_attempts` is the number of attempts per prompt (1..10), `max_prompt_revisions`
the number of revised prompts tried after the original (0..10) and `candidates` the images made
and judged in parallel per attempt (1..4), so one run makes at most
max_retry_attempts * (max_prompt_revisions + 1) * candidates images, which may not exceed 120.
"""

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.errors import InvalidInput, shown
from common.generators import FAMILIES, GeneratorConfig, default_model
from common.keys import EXECUTION_NAME_PATTERN
from common.seed_events import structured
from common.settings import Settings

MAX_ATTEMPTS = 10
MAX_REVISIONS = 10
MAX_CANDIDATES = 4
MAX_IMAGES = 120
MAX_PROMPT_CHARS = 4000

_MODEL_ID = re.compile(
    r"^[a-z0-9-]+(\.[a-z0-9-]+)+(:[0-9]+)?$"  # model id or cross-region inference profile id
    r"|^arn:aws[a-z-]*:bedrock:[a-z0-9-]+:(\d{12})?:"  # foundation-model ARNs have no account
    r"(foundation-model|inference-profile|application-inference-profile|provisioned-model)/[A-Za-z0-9.:_-]+$"
)
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_PREFIX_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class _Strict(BaseModel):
    # Strict: "3" is not 3 and "yes" is not true, as in the API's JSON schema.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OutputConfig(_Strict):
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


class S3Image(_Strict):
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
        if _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


ImageRef = Annotated[S3Image, BeforeValidator(_s3_uri)]


class Margins(_Strict):
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


class ConverseConfig(_Strict):
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
    if not _MODEL_ID.match(value):
        raise ValueError("must be a Bedrock model id, inference profile id or ARN")
    return value


class RunRequest(_Strict):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    max_retry_attempts: int = Field(default=3, ge=1, le=MAX_ATTEMPTS)
    max_prompt_revisions: int = Field(default=2, ge=0, le=MAX_REVISIONS)
    candidates: int = Field(default=1, ge=1, le=MAX_CANDIDATES)
    validate_against: Literal["original", "current"] = "original"
    prompt_template: str | None = Field(default=None, max_length=1000)
    translate: bool = False
    # What to do with a model Bedrock has retired: run its successor in its place, or fail at once.
    retired_models: Literal["successor", "fail"] = "successor"
    # Editing: what to do with which image (README, "Editing images").
    mode: Mode = "text-to-image"
    source_image: ImageRef | None = None
    mask_image: ImageRef | None = None  # white marks what may change
    mask_prompt: str | None = Field(default=None, min_length=1, max_length=1000)
    strength: float | None = Field(default=None, ge=0, le=1)  # image-to-image: 0 keeps the source, 1 ignores it
    search_prompt: str | None = Field(default=None, min_length=1, max_length=MAX_PROMPT_CHARS)
    outpaint: Margins | None = None
    # Names the execution when started through the HTTP API, so a retried request starts nothing new.
    idempotency_key: str | None = Field(default=None, pattern=EXECUTION_NAME_PATTERN)
    output: OutputConfig
    generator: GeneratorConfig
    validator: ConverseConfig
    reviser: ConverseConfig

    @model_validator(mode="before")
    @classmethod
    def _default_strength(cls, data: Any) -> Any:
        # Spelled out, so the loop starts from the value the manifest shows.
        if isinstance(data, dict) and data.get("mode") == "image-to-image" and data.get("strength") is None:
            return {**data, "strength": DEFAULT_STRENGTH}
        return data

    @field_validator("prompt", "negative_prompt", "prompt_template", "mask_prompt", "search_prompt")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @model_validator(mode="after")
    def _budget(self) -> "RunRequest":
        images = self.max_images()
        if images > MAX_IMAGES:
            # The limit first: a reader who sees only the start of the message still learns it.
            raise ValueError(
                f"a run may make at most {MAX_IMAGES} images; max_retry_attempts x (max_prompt_revisions + 1) "
                f"x candidates = {images}"
            )
        return self

    @model_validator(mode="after")
    def _mode_fields(self) -> "RunRequest":
        # InvalidInput, not ValueError: pydantic passes it through, so the message names the field
        # rather than "request".
        for field in EDIT_FIELDS:
            if getattr(self, field) is not None and field not in MODE_TAKES[self.mode]:
                raise InvalidInput(f"{field}: not used by mode {self.mode}")
        for need in MODE_NEEDS[self.mode]:
            if all(getattr(self, field) is None for field in need.split("|")):
                raise InvalidInput(f"{need.replace('|', ' or ')}: required by mode {self.mode}")
        return self

    def max_images(self) -> int:
        return self.max_retry_attempts * (self.max_prompt_revisions + 1) * self.candidates

    @field_validator("prompt_template")
    @classmethod
    def _one_slot(cls, value: str | None) -> str | None:
        if value is not None and value.count("{prompt}") != 1:
            raise ValueError("must contain the slot {prompt} exactly once")
        return value

    @field_validator("prompt")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


def _with_defaults(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    mode = data.get("mode")
    defaults = {
        "output": {"bucket": settings.output_bucket},
        "generator": {"model_id": default_model(mode if isinstance(mode, str) else "", settings.generator_model_id)},
        "validator": {"model_id": settings.validator_model_id},
        "reviser": {"model_id": settings.reviser_model_id},
    }
    for section, values in defaults.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise InvalidInput(f"{section}: must be an object")
        data[section] = {**values, **given}
    return data


MAX_EXPLAINED = 10
# pydantic's messages never hold the input (include_input is off); the longest list allowed values.
MAX_MESSAGE_CHARS = 600
_FAMILY_TAGS = {family.family for family in FAMILIES}


def explain(error: ValidationError, section: str = "") -> str:
    """One line per broken rule, naming the field: never a stack trace or the offending value.

    At most ten rules are listed, so a huge malformed request still gets a short cause."""
    lines = []
    items = error.errors(include_url=False, include_input=False)
    for item in items[:MAX_EXPLAINED]:
        # The generator's family tag is pydantic's way into the union, not a field the user wrote.
        loc = [
            part
            for i, part in enumerate(item["loc"])
            if not (i and item["loc"][i - 1] == "generator" and part in _FAMILY_TAGS)
        ]
        if item["type"] == "unknown_image_family":
            loc.append("model_id")
        field = ".".join(str(part) for part in (section, *loc) if part != "")[:100] or "request"
        if item["type"] == "extra_forbidden":
            message = "unknown field (not part of the request)"
        elif item["type"] == "union_tag_invalid":
            message = f"must be one of {item.get('ctx', {}).get('expected_tags', 'the known values')}"
        else:
            message = item["msg"].removeprefix("Value error, ")
            message = message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 3] + "..."
        lines.append(f"{field}: {message}")
    if len(items) > MAX_EXPLAINED:
        lines.append(f"and {len(items) - MAX_EXPLAINED} more")
    return "; ".join(lines)


def parse_request(raw: Any, settings: Settings) -> RunRequest:
    """The request as written, checked against its own rules and this deployment's allow-lists."""
    return allowed_by(read_request(raw, settings), settings)


def read_request(raw: Any, settings: Settings) -> RunRequest:
    """The request checked against its own rules, with the deployment's defaults filled in."""
    if not isinstance(raw, dict):
        raise InvalidInput("request: must be a JSON object")
    data = _with_defaults(structured(raw), settings)
    try:
        return RunRequest.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(explain(error)) from None


def allowed_by(request: RunRequest, settings: Settings) -> RunRequest:
    """The request, if its image model offers its mode and this deployment may run its models and
    write its bucket."""
    if request.mode not in request.generator.modes():
        offering = sorted(
            {default_model(request.mode, settings.generator_model_id)}
            | ({settings.generator_model_id} if request.mode == "image-to-image" else set())
        )
        raise InvalidInput(
            f"generator.model_id: {shown(request.generator.model_id)} does not offer mode {request.mode}; "
            f"leave model_id out to use {' or '.join(offering)}"
        )
    _check_allowed_models(request, settings)
    if request.output.bucket not in settings.allowed_buckets:
        raise InvalidInput(
            f"output.bucket: '{request.output.bucket}' is not a bucket this stack may write "
            f"(allowed: {', '.join(settings.allowed_buckets)}); add it to the cdk.json context "
            "'imgloop:extra_output_buckets' and deploy again to allow it"
        )
    return request


def _check_allowed_models(request: RunRequest, settings: Settings) -> None:
    if not settings.allowed_models:
        return
    for section in ("generator", "validator", "reviser"):
        model_id = getattr(request, section).model_id
        if model_id not in settings.allowed_models:
            raise InvalidInput(
                f"{section}.model_id: '{shown(model_id)}' is not on this stack's model allow-list "
                f"({', '.join(settings.allowed_models)}); add it to the cdk.json context 'imgloop:allowed_models' "
                "and deploy again to allow it"
            )

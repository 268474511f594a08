"""The run request: one structured shape, the seed systems' flat events mapped onto it, and its rules.

Limits: `max_retry_attempts` is the number of attempts per prompt (1..10), `max_prompt_revisions`
the number of revised prompts tried after the original (0..10) and `candidates` the images made
and judged in parallel per attempt (1..4), so one run makes at most
max_retry_attempts * (max_prompt_revisions + 1) * candidates images, which may not exceed 120.
"""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.errors import InvalidInput, shown
from common.generators import family_for
from common.keys import EXECUTION_NAME_PATTERN
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
        if not _BUCKET.match(value) or ".." in value:
            raise ValueError("must be an S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)")
        return value

    @field_validator("prefix")
    @classmethod
    def _key_prefix(cls, value: str) -> str:
        segments = value.strip("/").split("/")
        if len(value) > 200 or not all(_PREFIX_SEGMENT.match(s) for s in segments):
            raise ValueError(
                "must be up to 200 characters of '/'-separated parts made of letters, digits, '.', '_' "
                "and '-', each starting with a letter or digit"
            )
        return "/".join(segments)


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


class GeneratorConfig(BaseModel):
    """The image model and its family's own parameters, checked by that family's rules."""

    model_config = ConfigDict(extra="allow", frozen=True, strict=True)

    model_id: str

    @field_validator("model_id")
    @classmethod
    def _model_id(cls, value: str) -> str:
        return valid_model_id(value)

    def family_params(self) -> BaseModel:
        return family_for(self.model_id).params_model.model_validate(self.model_extra or {})


class RunRequest(_Strict):
    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS)
    negative_prompt: str = Field(default="", max_length=MAX_PROMPT_CHARS)
    max_retry_attempts: int = Field(default=3, ge=1, le=MAX_ATTEMPTS)
    max_prompt_revisions: int = Field(default=2, ge=0, le=MAX_REVISIONS)
    candidates: int = Field(default=1, ge=1, le=MAX_CANDIDATES)
    validate_against: Literal["original", "current"] = "original"
    prompt_template: str | None = Field(default=None, max_length=1000)
    translate: bool = False
    # Names the execution when started through the HTTP API, so a retried request starts nothing new.
    idempotency_key: str | None = Field(default=None, pattern=EXECUTION_NAME_PATTERN)
    output: OutputConfig
    generator: GeneratorConfig
    validator: ConverseConfig
    reviser: ConverseConfig

    @field_validator("prompt", "negative_prompt", "prompt_template")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None and _CONTROL.search(value):
            raise ValueError("must not contain control characters")
        return value

    @model_validator(mode="after")
    def _budget(self) -> "RunRequest":
        images = self.max_images()
        if images > MAX_IMAGES:
            raise ValueError(
                f"max_retry_attempts x (max_prompt_revisions + 1) x candidates allows {images} images; "
                f"the limit is {MAX_IMAGES}"
            )
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


_SAMPLING = ("temperature", "top_p", "top_k", "max_tokens")

# The seed systems' flat event keys, as (section, field) of the structured request.
FLAT_KEYS: dict[str, tuple[str, str]] = {
    "output_s3_bucket_name": ("output", "bucket"),
    "output_s3_key_prefix": ("output", "prefix"),
    # S1: SD3.5 Large judged and revised by Claude
    "sd_model_id": ("generator", "model_id"),
    "sd_aspect_ratio": ("generator", "aspect_ratio"),
    "sd_output_format": ("generator", "output_format"),
    "sd_seed": ("generator", "seed"),
    **{
        f"claude_{verb}_{name}": (section, name)
        for verb, section in (("validate", "validator"), ("revise", "reviser"))
        for name in ("model_id", *_SAMPLING)
    },
    # S2: SDXL 1.0
    **{
        f"sdxl_{name}": ("generator", name)
        for name in ("cfg_scale", "steps", "width", "height", "seed", "style_preset")
    },
    # S3: Nova Canvas judged and revised by Nova Pro
    **{
        f"nova_pro_{verb}_{name}": (section, name)
        for verb, section in (("validate", "validator"), ("revise", "reviser"))
        for name in _SAMPLING
    },
    **{f"nova_canvas_{name}": ("generator", name) for name in ("width", "height", "seed", "quality")},
    "nova_canvas_cfg_scale": ("generator", "cfg_scale"),
    "nova_canvas_number_of_images": ("", "candidates"),
}

# A seed event names its models by its keys (S2 and S3 fixed them in code): the model a key family implies.
IMPLIED_MODELS: dict[str, tuple[str, str]] = {
    "sdxl_": ("generator", "stability.stable-diffusion-xl-v1"),
    "nova_canvas_": ("generator", "amazon.nova-canvas-v1:0"),
    "nova_pro_validate_": ("validator", "us.amazon.nova-pro-v1:0"),
    "nova_pro_revise_": ("reviser", "us.amazon.nova-pro-v1:0"),
}


def _structure(raw: dict[str, Any]) -> dict[str, Any]:
    """Map flat seed keys onto sections; a key given both ways is an error, not a silent pick."""
    data: dict[str, Any] = {key: value for key, value in raw.items() if key not in FLAT_KEYS}
    for key, (section, name) in FLAT_KEYS.items():
        if key not in raw:
            continue
        target = data.setdefault(section, {}) if section else data
        if not isinstance(target, dict):
            raise InvalidInput(f"{section}: must be an object")
        if name in target:
            where = f"{section}.{name}" if section else name
            raise InvalidInput(f"{key}: conflicts with {where}; give one of them")
        target[name] = raw[key]
    for prefix, (section, model_id) in IMPLIED_MODELS.items():
        if any(key in FLAT_KEYS and key.startswith(prefix) for key in raw):
            target = data.setdefault(section, {})
            if not isinstance(target, dict):
                raise InvalidInput(f"{section}: must be an object")
            target.setdefault("model_id", model_id)
    return data


def _with_defaults(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    defaults = {
        "output": {"bucket": settings.output_bucket},
        "generator": {"model_id": settings.generator_model_id},
        "validator": {"model_id": settings.validator_model_id},
        "reviser": {"model_id": settings.reviser_model_id},
    }
    for section, values in defaults.items():
        given = data.get(section, {})
        if not isinstance(given, dict):
            raise InvalidInput(f"{section}: must be an object")
        data[section] = {**values, **given}
    return data


MAX_DESCRIBED = 10


def describe(error: ValidationError, section: str = "") -> str:
    """One line per broken rule, naming the field: never a stack trace or the offending value.

    At most ten rules are listed, so a huge malformed request still gets a short cause."""
    lines = []
    items = error.errors(include_url=False, include_input=False)
    for item in items[:MAX_DESCRIBED]:
        field = ".".join(str(part) for part in (section, *item["loc"]) if part != "")[:100] or "request"
        if item["type"] == "extra_forbidden":
            message = "unknown field (not part of the request)"
        elif item["type"] == "union_tag_invalid":
            message = f"must be one of {item.get('ctx', {}).get('expected_tags', 'the known values')}"
        else:
            message = shown(item["msg"]) if len(item["msg"]) > 200 else item["msg"]
        lines.append(f"{field}: {message}")
    if len(items) > MAX_DESCRIBED:
        lines.append(f"and {len(items) - MAX_DESCRIBED} more")
    return "; ".join(lines)


def parse_request(raw: Any, settings: Settings) -> RunRequest:
    if not isinstance(raw, dict):
        raise InvalidInput("request: must be a JSON object")
    data = _with_defaults(_structure(raw), settings)
    try:
        request = RunRequest.model_validate(data)
    except ValidationError as error:
        raise InvalidInput(describe(error)) from None
    try:
        params = request.generator.family_params()
    except ValidationError as error:
        raise InvalidInput(describe(error, "generator")) from None
    # Spell out the family's defaults so every later task, and the manifest, sees the same values.
    generator = GeneratorConfig.model_validate({"model_id": request.generator.model_id, **params.model_dump()})
    request = request.model_copy(update={"generator": generator})
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

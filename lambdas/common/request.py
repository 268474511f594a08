"""The run request: one structured shape, the seed systems' flat events mapped onto it, and its rules.

Limits: `max_retry_attempts` is the number of attempts per prompt (1..10), `max_prompt_revisions`
the number of revised prompts tried after the original (0..10) and `candidates` the images made
and judged in parallel per attempt (1..4), so one run makes at most
max_retry_attempts * (max_prompt_revisions + 1) * candidates images, which may not exceed 120.
"""

import re
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from common.errors import InvalidInput, shown
from common.generators import FAMILIES, GeneratorConfig, default_model, offered_modes
from common.keys import EXECUTION_NAME_PATTERN
from common.names import SD35_LARGE
from common.sections import (
    CONTROL,
    DEFAULT_STRENGTH,
    EDIT_FIELDS,
    MODE_NEEDS,
    MODE_TAKES,
    ConverseConfig,
    ImageRef,
    Margins,
    Mode,
    OutputConfig,
    Strict,
)
from common.seed_events import structured
from common.settings import Settings

MAX_ATTEMPTS = 10
MAX_REVISIONS = 10
MAX_CANDIDATES = 4
MAX_IMAGES = 120
MAX_PROMPT_CHARS = 4000
# The most a run's cap may be: keeps its micro-dollars within the state machine's integer arithmetic.
# The least is a cent (a bound the API's JSON schema can state, unlike "more than 0").
MIN_COST_USD = 0.01
MAX_COST_USD = 1000
# The served model that draws from a source image (SD3 Large is legacy).
DRAWS_FROM_SOURCE = SD35_LARGE


class RunRequest(Strict):
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
    # What to do with a Legacy model, which Bedrock refuses to accounts that have not used it lately (every
    # new one): run its successor in its place, or keep it, for an account that still has it.
    legacy_models: Literal["successor", "keep"] = "successor"
    # Editing: what to do with which image (docs/editing.md).
    mode: Mode = "text-to-image"
    source_image: ImageRef | None = None
    mask_image: ImageRef | None = None  # white marks what may change
    mask_prompt: str | None = Field(default=None, min_length=1, max_length=1000)
    strength: float | None = Field(default=None, ge=0, le=1)  # image-to-image: 0 keeps the source, 1 ignores it
    search_prompt: str | None = Field(default=None, min_length=1, max_length=MAX_PROMPT_CHARS)
    outpaint: Margins | None = None
    # Stop before an attempt that could take the run's spend past this (docs/cost.md).
    max_cost_usd: float | None = Field(default=None, ge=MIN_COST_USD, le=MAX_COST_USD)
    # Names the execution when started through the HTTP API, so a retried request starts nothing new.
    idempotency_key: str | None = Field(default=None, pattern=EXECUTION_NAME_PATTERN)
    output: OutputConfig
    generator: GeneratorConfig
    validator: ConverseConfig
    reviser: ConverseConfig

    @model_validator(mode="before")
    @classmethod
    def _mode_defaults(cls, data: Any) -> Any:
        # Spelled out, so the loop starts from the values the manifest shows.
        if isinstance(data, dict) and data.get("mode") == "image-to-image" and data.get("strength") is None:
            return {**data, "strength": DEFAULT_STRENGTH}
        if isinstance(data, dict) and data.get("mode") == "erase" and "max_prompt_revisions" not in data:
            return {**data, "max_prompt_revisions": 0}
        return data

    @field_validator("prompt", "negative_prompt", "prompt_template", "mask_prompt", "search_prompt")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None and CONTROL.search(value):
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
        if self.mode == "erase" and self.max_prompt_revisions:
            raise InvalidInput(
                "max_prompt_revisions: must be 0 for mode erase, which sends no prompt a revision could change"
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


def _with_defaults(data: dict[str, Any], settings: Settings) -> dict[str, Any]:
    mode = data.get("mode")
    defaults = {
        "output": {"bucket": settings.output_bucket},
        "generator": {"model_id": default_model(mode if isinstance(mode, str) else "", settings.generator_model_id)},
        "validator": {"model_id": settings.validator_model_id},
        "reviser": {"model_id": settings.reviser_model_id},
    }
    if settings.max_cost_usd is not None and data.get("max_cost_usd") is None:
        data["max_cost_usd"] = settings.max_cost_usd
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


def explain(error: ValidationError) -> str:
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
        field = ".".join(str(part) for part in loc if part != "")[:100] or "request"
        if item["type"] == "extra_forbidden":
            message = "unknown field (not part of the request)"
        elif item["type"] == "union_tag_invalid":
            message = f"must be one of {item.get('ctx', {}).get('expected_tags', 'the known values')}"
        else:
            message = item["msg"].removeprefix("Value error, ")
            message = message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 3] + "..."
        # A rule across fields names its fields itself ("input or items: ..."): no "request:" before it.
        named = field == "request" and re.match(r"^[a-z_][\w.]*( or [a-z_][\w.]*)?: ", message)
        lines.append(message if named else f"{field}: {message}")
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
        default = default_model(request.mode, settings.generator_model_id)
        way = (
            f"leave model_id out to use {default}"
            if request.mode in offered_modes(default)
            else f"name a model that does, such as {DRAWS_FROM_SOURCE}"
        )
        raise InvalidInput(
            f"generator.model_id: {shown(request.generator.model_id)} does not offer mode {request.mode}; {way}"
        )
    if request.mask_prompt is not None:
        # Only Nova Canvas (retired) found a region from a text; its requests become search-and-replace.
        raise InvalidInput(
            f"mask_prompt: {shown(request.generator.model_id)} takes no mask_prompt; send a mask_image, or name "
            "what to change with mode search-replace and search_prompt"
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

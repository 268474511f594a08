"""What the state machine hands each task: the slice of the checked request that the task needs.

"Check input" checks the request once; after that each task gets only its part (Generate: the generator
and the prompt; Validate: the requirement and the judge; Revise: the reviser and the target model), plus
the run it belongs to. A payload still cannot point outside its run: `Run` checks that its places follow
from its name, `parse_payload` that its bucket (and that of any image it edits) is one this deployment
may use, and each task that names an image it made checks that the image is its own."""

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, model_validator

from common.batches import Batch, BatchItem, ExecutionRef, ItemOutcome
from common.errors import InvalidInput
from common.generators import GeneratorConfig
from common.model import Model, Root
from common.quotas import BatchPlan
from common.request import MAX_ATTEMPTS, MAX_CANDIDATES, MAX_REVISIONS, explain
from common.results import Generated, Run
from common.sections import ConverseConfig, Margins, Mode, S3Image
from common.settings import Settings
from common.spend import Budget

_Number = Annotated[int, Field(strict=True)]


class Payload(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Slot(Payload):
    """Where in the loop an image belongs; its S3 keys follow from the slot and the run."""

    run: Run
    revision: _Number = Field(ge=0, le=MAX_REVISIONS)
    attempt: _Number = Field(ge=1, le=MAX_ATTEMPTS)
    candidate: _Number = Field(default=1, ge=1, le=MAX_CANDIDATES)
    # How many images the attempt makes: with more than one, each key carries its candidate number.
    candidates: _Number = Field(default=1, ge=1, le=MAX_CANDIDATES)

    @model_validator(mode="after")
    def _candidate_in_range(self) -> "Slot":
        if self.candidate > self.candidates:
            raise ValueError("candidate: must be at most candidates")
        return self

    @property
    def image_number(self) -> int:
        """The slot's place among every image the request may make, counting from 0, whatever its budget."""
        return ((self.revision * MAX_ATTEMPTS) + self.attempt - 1) * MAX_CANDIDATES + self.candidate - 1

    def image_key(self, extension: str, staging: bool = False) -> str:
        numbered = self.candidate if self.candidates > 1 else None
        make = self.run.keys.staging if staging else self.run.keys.image
        return make(self.revision, self.attempt, extension, numbered)

    def owns(self, key: str, staging: bool = False) -> bool:
        """Whether a key is this slot's own image (staged or filed), in one of the known formats."""
        return key in {self.image_key(extension, staging) for extension in ("png", "jpg")}


class Edit(Payload):
    """What an edit works on, as one object: the request's mode and its images (None when drawing from text)."""

    mode: Mode = "text-to-image"
    source_image: S3Image | None = None
    mask_image: S3Image | None = None


class LoopPrompt(Payload):
    """The prompt the loop has come to (the request's, translated or revised) and the image-to-image
    strength that goes with it, which the reviser may change too."""

    prompt: str
    negative_prompt: str
    strength: float | None = None


class GenerateTask(Slot, LoopPrompt):
    edit: Edit = Edit()
    prompt_template: str | None
    generator: GeneratorConfig
    search_prompt: str | None = None
    outpaint: Margins | None = None

    @model_validator(mode="after")
    def _mode_fits(self) -> "GenerateTask":
        # InvalidInput passes through pydantic, so the message names the request's field (as the request
        # names it, not as `edit.` nests it here) rather than "request".
        mode, source = self.edit.mode, self.edit.source_image
        if mode not in self.generator.modes():
            raise InvalidInput(f"mode: {self.generator.model_id} does not offer {mode}")
        if (source is None) != (mode == "text-to-image"):
            raise InvalidInput(f"source_image: mode {mode} {'needs' if source is None else 'takes no'} one")
        return self


class ValidateTask(Slot):
    edit: Edit = Edit()
    key: str | None  # None: the model refused, and `refusal` says why
    refusal: str | None = None
    requirement: str  # the request's prompt
    prompt: str  # the prompt that drew the image
    validate_against: Literal["original", "current"]
    validator: ConverseConfig
    # What Generate reported for the image; Validate hands it on in the candidate's result.
    image_usd_micro: _Number = Field(default=0, ge=0)
    # What the run had spent before this attempt; Validate hands it on for the state machine's sum.
    spent_usd_micro: _Number = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _own_image(self) -> "ValidateTask":
        if self.key is None and self.refusal is None:
            raise ValueError("key: an image to judge, or the refusal that left none, is required")
        if self.key is not None and not self.owns(self.key):
            raise ValueError("key: must be this attempt's own image")
        return self

    @property
    def judged_requirement(self) -> str:
        return self.requirement if self.validate_against == "original" else self.prompt


class RewriteTask(LoopPrompt):
    """Revise the prompt after failures, or translate the requirement before the first attempt."""

    run: Run
    mode: Literal["revise", "translate"]
    revision: _Number = Field(ge=0, le=MAX_REVISIONS)
    requirement: str
    # Only the edit's mode: the reviser words the prompt for it, and never sees the images.
    image_mode: Mode = "text-to-image"
    generator: GeneratorConfig
    reviser: ConverseConfig


class ExecutionStart(Payload):
    id: str
    name: str
    # None for a batch's item: its start time is not one the local interpreter can hand over.
    started_at: str | None = None


class OpenRun(Payload):
    action: Literal["open"]
    request: Any
    execution: ExecutionStart


class RecordTask(Slot, LoopPrompt):
    action: Literal["record"]
    generation: Generated
    # What the reviser's call that wrote this prompt cost (0 for the request's own prompt).
    prompt_usd_micro: _Number = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _own_image(self) -> "RecordTask":
        staged = self.generation.staging_key
        if staged is not None and not self.owns(staged, staging=True):
            raise ValueError("generation.staging_key: must be this attempt's own staging key")
        return self


class CloseSucceeded(Payload):
    action: Literal["succeeded"]
    run: Run
    revision: _Number = Field(ge=0, le=MAX_REVISIONS)
    attempt: _Number = Field(ge=1, le=MAX_ATTEMPTS)


class CloseNotMet(Payload):
    action: Literal["requirements_not_met"]
    run: Run
    # What stopped the run: its image budget used up, or its spending cap (max_cost_usd) reached.
    stopped_by: Literal["budget", "cap"]
    spent_usd_micro: _Number = Field(ge=0)
    budget: Budget
    # The attempts made at the last prompt, and the most it may have: whether the step the cap stopped was
    # another attempt or a revised prompt (the cause names its ceiling).
    attempt: _Number = Field(ge=1, le=MAX_ATTEMPTS)
    max_retry_attempts: _Number = Field(ge=1, le=MAX_ATTEMPTS)


class CloseFailed(Payload):
    action: Literal["failed"]
    run: Run
    error: str
    cause: str | None = None


class OpenBatch(Payload):
    action: Literal["open_batch"]
    request: Any
    execution: ExecutionRef


class RecordItem(Payload):
    action: Literal["record_item"]
    batch: Batch
    item: BatchItem
    outcome: ItemOutcome


class CloseBatch(Payload):
    action: Literal["close_batch"]
    batch: Batch
    plan: BatchPlan | None = None


SaveAction = OpenRun | RecordTask | CloseSucceeded | CloseNotMet | CloseFailed | OpenBatch | RecordItem | CloseBatch


class SaveTask(Root[SaveAction]):
    """Save's actions, told apart by `action`: a run's, and a batch's."""

    root: SaveAction = Field(discriminator="action")


T = TypeVar("T", bound=BaseModel)


def parse_payload(model: type[T], event: Any, settings: Settings) -> T:
    """The task's payload, or InvalidInput naming the broken field; its run, and any image it edits,
    must be in a bucket this deployment may use."""
    try:
        parsed = model.model_validate(event)
    except ValidationError as error:
        raise InvalidInput(explain(error)) from None
    task = parsed.root if isinstance(parsed, RootModel) else parsed
    allowed = settings.allowed_buckets
    run = getattr(task, "run", None)
    if isinstance(run, Run) and run.bucket not in allowed:
        raise InvalidInput(f"run.bucket: must be one of the buckets this stack may write ({', '.join(allowed)})")
    batch = getattr(task, "batch", None)
    if isinstance(batch, Batch) and batch.bucket != settings.output_bucket:
        raise InvalidInput(f"batch.bucket: must be this stack's bucket ({settings.output_bucket})")
    edit = getattr(task, "edit", None)
    if isinstance(edit, Edit):
        for field in ("source_image", "mask_image"):
            image = getattr(edit, field)
            if image is not None and image.bucket not in allowed:
                raise InvalidInput(
                    f"{field}.bucket: must be one of the buckets this stack may use ({', '.join(allowed)})"
                )
    for field in ("generator", "validator", "reviser"):
        # IAM lets the functions call the allow-listed models only; this names the field first.
        model_id = getattr(getattr(task, field, None), "model_id", None)
        if model_id is not None and settings.allowed_models and model_id not in settings.allowed_models:
            raise InvalidInput(f"{field}.model_id: must be on this stack's model allow-list")
    return parsed

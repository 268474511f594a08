"""What the state machine hands each task and what each task hands back: small, typed, no bytes."""

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError, model_validator

from common.errors import InvalidInput
from common.keys import RunKeys
from common.request import RunRequest, describe
from common.settings import Settings


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Run(_Payload):
    """Which execution this is and where its files live; set by the first state."""

    execution_id: str
    execution_name: str
    bucket: str
    folder: str
    manifest_key: str


class Task(_Payload):
    request: RunRequest
    run: Run

    @model_validator(mode="after")
    def _one_run(self) -> "Task":
        """The run's places follow from its request and name: a payload cannot point elsewhere."""
        keys = self.keys()
        expected = (self.request.output.bucket, keys.folder, keys.manifest)
        if (self.run.bucket, self.run.folder, self.run.manifest_key) != expected:
            raise ValueError("run: bucket, folder and manifest_key must be those of the request and execution name")
        try:
            self.request.generator.family_params()
        except ValidationError as error:
            raise ValueError(describe(error, "generator")) from None
        return self

    def keys(self) -> RunKeys:
        try:
            return RunKeys(prefix=self.request.output.prefix, execution_name=self.run.execution_name)
        except InvalidInput as error:
            raise ValueError(str(error)) from None


class Attempt(Task):
    revision: int = Field(ge=0)
    attempt: int = Field(ge=1)
    prompt: str
    negative_prompt: str

    def image_key(self, extension: str, candidate: int = 1, staging: bool = False) -> str:
        numbered = candidate if self.request.candidates > 1 else None
        make = self.keys().staging if staging else self.keys().image
        return make(self.revision, self.attempt, extension, numbered)

    def owns(self, key: str, candidate: int = 1, staging: bool = False) -> bool:
        """Whether a key is this attempt's own image (staged or filed), in one of the known formats."""
        return key in {self.image_key(extension, candidate, staging) for extension in ("png", "jpg")}


class CandidateAttempt(Attempt):
    """One of the images of an attempt, made in a Map iteration."""

    candidate: int = Field(default=1, ge=1)


class CandidateResult(_Payload):
    candidate: int
    key: str | None
    passed: bool
    score: int
    reason: str | None


class Rewrite(Task):
    """Revise the prompt after failures, or translate the requirement before the first attempt."""

    mode: Literal["revise", "translate"] = "revise"
    revision: int = Field(ge=0)
    attempt: int = Field(ge=0)
    prompt: str
    negative_prompt: str


class Generation(_Payload):
    outcome: Literal["image", "refused"]
    model_id: str
    seed: int
    staging_key: str | None = None
    content_type: str | None = None
    refusal: str | None = None
    # What went to the model when it differs from the loop's prompt (template applied, shortened).
    sent_prompt: str | None = None
    note: str | None = None


class Record(_Payload):
    key: str | None


class VerdictSummary(_Payload):
    passed: bool
    score: int
    reason: str


class Proposal(_Payload):
    prompt: str
    negative_prompt: str
    note: str


T = TypeVar("T", bound=BaseModel)


def parse_payload(model: type[T], event: Any) -> T:
    try:
        parsed = model.model_validate(event)
    except ValidationError as error:
        raise InvalidInput(describe(error)) from None
    task = parsed.root if isinstance(parsed, RootModel) else parsed
    if isinstance(task, Task):
        # The input check allowed the run's bucket; a task payload cannot name another one.
        allowed = Settings.from_env().allowed_buckets
        if task.run.bucket not in allowed:
            raise InvalidInput(f"run.bucket: must be one of the buckets this stack may write ({', '.join(allowed)})")
    return parsed


class Success(_Payload):
    """The execution's output when an image passed."""

    status: Literal["SUCCESS"] = "SUCCESS"
    message: str
    bucket: str
    key: str
    s3_uri: str
    bucket_console_url: str
    object_console_url: str
    prompt: str
    negative_prompt: str
    revision: int
    attempt: int
    reason: str
    images_generated: int
    manifest_key: str


class NotMet(_Payload):
    cause: str


class Failed(_Payload):
    error: str
    cause: str


class Execution(_Payload):
    id: str
    name: str
    started_at: str


class OpenRun(_Payload):
    action: Literal["open"]
    request: Any
    execution: Execution


class RecordGeneration(CandidateAttempt):
    action: Literal["record"]
    generation: Generation

    @model_validator(mode="after")
    def _own_image(self) -> "RecordGeneration":
        staged = self.generation.staging_key
        if staged is not None and not self.owns(staged, self.candidate, staging=True):
            raise ValueError("generation.staging_key: must be this attempt's own staging key")
        return self


class CloseSucceeded(Attempt):
    action: Literal["succeeded"]
    candidates: list[CandidateResult]

    @model_validator(mode="after")
    def _own_images(self) -> "CloseSucceeded":
        if any(c.key is not None and not self.owns(c.key, c.candidate) for c in self.candidates):
            raise ValueError("candidates: every key must be one of this attempt's own images")
        return self


class CloseNotMet(Task):
    action: Literal["requirements_not_met"]


class CloseFailed(Task):
    action: Literal["failed"]
    error: str
    cause: str | None = None


SaveActions = OpenRun | RecordGeneration | CloseSucceeded | CloseNotMet | CloseFailed


class SaveAction(RootModel[SaveActions]):
    root: SaveActions = Field(discriminator="action")

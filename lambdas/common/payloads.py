"""What the state machine hands each task and what each task hands back: small, typed, no bytes."""

from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, RootModel, ValidationError

from common.errors import InvalidInput
from common.keys import RunKeys
from common.request import RunRequest, describe


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

    def keys(self) -> RunKeys:
        return RunKeys(prefix=self.request.output.prefix, execution_name=self.run.execution_name)


class Attempt(Task):
    revision: int = Field(ge=0)
    attempt: int = Field(ge=1)
    prompt: str
    negative_prompt: str


class CandidateAttempt(Attempt):
    """One of the images of an attempt, made in a Map iteration."""

    candidate: int = Field(default=1, ge=1)

    def image_key(self, extension: str) -> str:
        candidate = self.candidate if self.request.candidates > 1 else None
        return self.keys().image(self.revision, self.attempt, extension, candidate)

    def staging_key(self, extension: str) -> str:
        candidate = self.candidate if self.request.candidates > 1 else None
        return self.keys().staging(self.revision, self.attempt, extension, candidate)


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
        return model.model_validate(event)
    except ValidationError as error:
        raise InvalidInput(describe(error)) from None


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


class CloseSucceeded(Attempt):
    action: Literal["succeeded"]
    candidates: list[CandidateResult]


class CloseNotMet(Task):
    action: Literal["requirements_not_met"]


class CloseFailed(Task):
    action: Literal["failed"]
    error: str
    cause: str | None = None


SaveActions = OpenRun | RecordGeneration | CloseSucceeded | CloseNotMet | CloseFailed


class SaveAction(RootModel[SaveActions]):
    root: SaveActions = Field(discriminator="action")

"""What each task hands back to the state machine: small, typed, no bytes. The state machine's result
selectors are derived from these models' fields, so the two cannot drift apart."""

from typing import Literal

from pydantic import ConfigDict, model_validator

from common.batches import Batch, ItemStatus
from common.errors import InvalidInput
from common.keys import RunKeys
from common.model import Model
from common.quotas import BatchPlan
from common.request import RunRequest
from common.sections import valid_prefix
from common.spend import Budget, RunCost


class Result(Model):
    model_config = ConfigDict(extra="forbid")


class Run(Result):
    """Which execution this is and where its files live; set by "Check input"."""

    execution_id: str
    execution_name: str
    bucket: str
    folder: str
    manifest_key: str

    @classmethod
    def of(cls, execution_id: str, execution_name: str, bucket: str, prefix: str) -> "Run":
        keys = RunKeys(prefix=prefix, execution_name=execution_name)
        return cls(
            execution_id=execution_id,
            execution_name=execution_name,
            bucket=bucket,
            folder=keys.folder,
            manifest_key=keys.manifest,
        )

    @model_validator(mode="after")
    def _own_places(self) -> "Run":
        """The folder is <a valid prefix>/<execution name> and the manifest lies in it: nowhere else."""
        prefix, _, name = self.folder.rpartition("/")
        try:
            expected = RunKeys(prefix=valid_prefix(prefix), execution_name=self.execution_name)
        except (InvalidInput, ValueError) as error:
            raise ValueError(f"folder: {error}") from None
        # Exactly those: valid_prefix() forgives slashes at the ends, a key must not have them.
        if (self.folder, self.manifest_key) != (expected.folder, expected.manifest) or name != self.execution_name:
            raise ValueError("folder and manifest_key must be the run's own: <prefix>/<execution name>")
        return self

    @property
    def keys(self) -> RunKeys:
        prefix = self.folder.rpartition("/")[0]
        return RunKeys(prefix=prefix, execution_name=self.execution_name)


class Opened(Result):
    """The checked request (with every default spelled out) and the run: "Check input"'s answer."""

    request: RunRequest
    run: Run
    # Retired models the run replaced, as lines a person reads in the history and the progress.
    substitutions: list[str]
    budget: Budget


class Generated(Result):
    outcome: Literal["image", "refused"]
    model_id: str
    seed: int
    staging_key: str | None = None
    content_type: str | None = None
    refusal: str | None = None
    # What went to the model when it differs from the loop's prompt (template applied, shortened);
    # None when the loop's prompt went as it was.
    sent_prompt: str | None = None
    note: str | None = None
    # What the call cost: the image's price when the model answered, 0 when Bedrock rejected the request.
    usd_micro: int = 0


class Recorded(Result):
    key: str | None


class CandidateResult(Result):
    """One image's outcome in the attempt's tally: Validate's answer, or a refusal's."""

    revision: int
    attempt: int
    candidate: int
    key: str | None
    passed: bool
    score: int
    reason: str
    # What the image and its judge call cost, and what the run had spent before the attempt (handed on):
    # the state machine adds them up.
    image_usd_micro: int
    judge_usd_micro: int
    spent_usd_micro: int


class Proposal(Result):
    prompt: str
    negative_prompt: str
    strength: float | None  # image-to-image: the reviser may move it, within bounds
    note: str
    usd_micro: int  # what the reviser's call cost


class Success(Result):
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
    substitutions: list[str]
    cost: RunCost


class NotMet(Result):
    cause: str


class Failed(Result):
    error: str
    cause: str


class OpenedBatch(Result):
    """ "Read the batch"'s answer: where the batch's files are, and what a re-run found done."""

    batch: Batch
    skipped: int
    unreadable: int
    # How many items run at once and why; None in the output of an execution from before batches planned.
    plan: BatchPlan | None = None


class ItemRecorded(Result):
    id: str
    status: ItemStatus
    error: str | None

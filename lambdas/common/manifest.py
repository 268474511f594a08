"""The run's record in S3: every image, refusal and verdict, updated without losing anyone's entry.

Writers (Save and Validate, and parallel branches later) read the manifest with its ETag and write
it back only if nobody changed it meanwhile (S3 conditional writes), so concurrent updates retry
instead of overwriting each other. Entries are keyed by (revision, attempt, candidate): a retried task
replaces its own entry and never adds a second one.
"""

import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError
from pydantic import Field

from common.errors import InvalidInput, ManifestConflict
from common.model import Model

_CONFLICT_CODES = {"PreconditionFailed", "ConditionalRequestConflict"}
_MAX_TRIES = 8


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Check(Model):
    requirement: str
    ok: bool
    evidence: str


class Verdict(Model):
    passed: bool
    score: int = Field(ge=0, le=10)
    reason: str
    checks: list[Check] = Field(default_factory=list)
    suggested_fix: str = ""
    judged_by: str
    judged_at: str = Field(default_factory=now)
    # Masked edits: how much the result differs from the source outside the mask (0 to 1).
    outside_mask_change: float | None = None
    notes: list[str] = Field(default_factory=list)
    # What the judge's call cost, from the tokens Bedrock reported (0 when no judge was asked); the
    # manifest keeps it in the entry's cost, with the image's and the prompt's.
    usd_micro: int = Field(default=0, exclude=True)


class EntryCost(Model):
    """What the calls behind one entry cost, in dollars: its image, its judge, and the reviser call that
    wrote its prompt (on every entry of that prompt, counted once per prompt)."""

    image_usd: float = 0
    judge_usd: float = 0
    prompt_usd: float = 0


class Entry(Model):
    revision: int
    attempt: int
    candidate: int = 1
    outcome: Literal["image", "refused"]
    prompt: str
    negative_prompt: str
    model_id: str
    seed: int
    key: str | None = None
    refusal: str | None = None
    sent_prompt: str | None = None
    strength: float | None = None  # image-to-image: the strength this attempt ran at
    note: str | None = None
    verdict: Verdict | None = None
    cost: EntryCost = Field(default_factory=EntryCost)
    created_at: str = Field(default_factory=now)

    @property
    def position(self) -> tuple[int, int, int]:
        return (self.revision, self.attempt, self.candidate)


class Winner(Model):
    revision: int
    attempt: int
    candidate: int = 1
    key: str


class Failure(Model):
    error: str
    message: str


class Substitution(Model):
    """A retired (or Legacy) model the run replaced by its successor (see common.lifecycle)."""

    section: str  # generator, validator or reviser
    retired: str
    successor: str
    note: str
    legacy: bool = False  # Legacy, not past its end of life

    @property
    def line(self) -> str:
        status = (
            'Legacy on Bedrock (refused to accounts that have not used it lately; "legacy_models": "keep" runs it)'
            if self.legacy
            else "retired on Bedrock"
        )
        return f"{self.section}: {self.retired} is {status}; {self.successor} ran instead ({self.note})"


Status = Literal["running", "succeeded", "requirements_not_met", "failed"]


class Manifest(Model):
    execution_id: str
    execution_name: str
    started_at: str
    request: dict[str, Any]
    substitutions: list[Substitution] = Field(default_factory=list)
    status: Status = "running"
    finished_at: str | None = None
    winner: Winner | None = None
    failure: Failure | None = None
    entries: list[Entry] = Field(default_factory=list)

    def entry(self, revision: int, attempt: int, candidate: int = 1) -> Entry | None:
        return next((e for e in self.entries if e.position == (revision, attempt, candidate)), None)

    def best(self, passed_only: bool = False, revision: int | None = None, attempt: int | None = None) -> Entry | None:
        """The best-scored judged image (of one attempt, or passing only): the winner of a run that
        succeeded, the image to look at first in one that did not. Ties go to the earliest image."""
        judged = [
            e
            for e in self.entries
            if e.verdict is not None
            and e.key
            and (e.verdict.passed or not passed_only)
            and revision in (None, e.revision)
            and attempt in (None, e.attempt)
        ]
        return max(
            judged, key=lambda e: (e.verdict.score if e.verdict else -1, *(-p for p in e.position)), default=None
        )

    def put_entry(self, entry: Entry) -> None:
        self.entries = [e for e in self.entries if e.position != entry.position]
        self.entries.append(entry)
        self.entries.sort(key=lambda e: e.position)


class ManifestStore:
    def __init__(self, s3: Any, bucket: str, key: str) -> None:
        self._s3 = s3
        self.bucket = bucket
        self.key = key

    def create(self, manifest: Manifest) -> Manifest:
        """Write the first version; a retried create finds its own manifest and keeps it."""
        try:
            self._put(manifest, IfNoneMatch="*")
        except ClientError as error:
            if error.response["Error"]["Code"] not in _CONFLICT_CODES:
                raise
            existing, _ = self.read()
            if existing.execution_id != manifest.execution_id:
                raise InvalidInput(
                    f"execution name: s3://{self.bucket}/{self.key} belongs to another execution "
                    f"({existing.execution_id}); start this one under a new name or output prefix"
                ) from None
            return existing
        return manifest

    def read(self) -> tuple[Manifest, str]:
        obj = self._s3.get_object(Bucket=self.bucket, Key=self.key)
        return Manifest.model_validate_json(obj["Body"].read()), obj["ETag"]

    def update(self, change: Callable[[Manifest], None]) -> Manifest:
        for attempt in range(_MAX_TRIES):
            manifest, etag = self.read()
            change(manifest)
            try:
                self._put(manifest, IfMatch=etag)
                return manifest
            except ClientError as error:
                if error.response["Error"]["Code"] not in _CONFLICT_CODES:
                    raise
            time.sleep(random.uniform(0, 0.05 * 2**attempt))
        raise ManifestConflict(f"manifest {self.key} changed on every one of {_MAX_TRIES} tries")

    def _put(self, manifest: Manifest, **condition: str) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=self.key,
            Body=json.dumps(manifest.model_dump(mode="json"), ensure_ascii=False, indent=1).encode(),
            ContentType="application/json",
            **condition,
        )

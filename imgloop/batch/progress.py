"""Follow a batch execution: items done, failed and running, and the images made.

The counts come from what the batch leaves in S3 (each item's record, written when its run ends, names
the batch execution that ran it) and from its Map Run's own counts, so the same code follows a local
batch (through the local runner's watch) and a deployed one. The Map Run is found through its
MapRunStarted event rather than ListMapRuns, which moto's interpreter cannot answer before the Map starts.
"""

import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TextIO

from botocore.exceptions import ClientError
from pydantic import ValidationError

from common.batches import Batch, ItemRecord
from common.results import OpenedBatch
from imgloop.runs.executions import Execution, described, history

READ_STATE = "Read the batch"
# What S3 answers about an object, or a bucket, that is not there.
MISSING = ("404", "NoSuchKey", "NotFound", "NoSuchBucket")
# Records are read this many at a time: a re-run of a large batch finds thousands at its first look.
_READERS = 16


def opened_batch(events: list[dict[str, Any]]) -> OpenedBatch | None:
    """What "Read the batch" found: where the batch's files are, its items, those skipped; None before
    it has ended, or when the batch was refused."""
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details.get("name") == READ_STATE:
            try:
                return OpenedBatch.model_validate_json(details.get("output") or "")
            except ValidationError:
                return None
    return None


def _map_run(events: list[dict[str, Any]]) -> str | None:
    for event in events:
        details = event.get("mapRunStartedEventDetails")
        if details and details.get("mapRunArn"):
            return str(details["mapRunArn"])
    return None


@dataclass(frozen=True)
class Progress:
    batch: str
    items: int
    succeeded: int  # in this execution, as are failed and images
    failed: int
    skipped: int  # succeeded in an earlier execution
    running: int
    images: int
    cost_usd: float = 0  # the model calls of the runs recorded so far

    def line(self) -> str:
        done = self.succeeded + self.failed + self.skipped
        text = f"batch {self.batch}: {done}/{self.items} done: {self.succeeded} succeeded, {self.failed} failed"
        if self.skipped:
            text += f", {self.skipped} skipped"
        return text + f"; {self.running} running; {self.images} image(s) made; ${self.cost_usd:.4f} spent"


class Records:
    """A batch's item records, each read again only when its ETag changes."""

    def __init__(self, s3: Any, batch: Batch) -> None:
        self._s3 = s3
        self._batch = batch
        self._read: dict[str, tuple[str, ItemRecord | None]] = {}

    def read(self) -> dict[str, ItemRecord]:
        """Every record of the batch, this execution's and earlier ones', by item id."""
        prefix = self._batch.keys.records_prefix
        changed = []
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=self._batch.bucket, Prefix=prefix)
        for page in pages:
            for entry in page.get("Contents", []):
                if self._read.get(entry["Key"], ("",))[0] != entry["ETag"]:
                    changed.append((entry["Key"], entry["ETag"]))
        with ThreadPoolExecutor(max_workers=_READERS) as pool:
            found = list(pool.map(self._get, [key for key, _ in changed]))
        for (key, tag), record in zip(changed, found, strict=True):
            self._read[key] = (tag, record)
        return {record.id: record for _, record in self._read.values() if record is not None}

    def ours(self) -> list[ItemRecord]:
        """The records this execution wrote, in input order."""
        mine = [r for r in self.read().values() if r.execution == self._batch.execution.name]
        return sorted(mine, key=lambda record: record.index)

    def _get(self, key: str) -> ItemRecord | None:
        try:
            body = self._s3.get_object(Bucket=self._batch.bucket, Key=key)["Body"].read()
        except ClientError as error:
            if error.response["Error"]["Code"] in MISSING:
                return None
            raise
        return ItemRecord.model_validate_json(body)


class BatchFollower:
    """One batch execution, looked at again and again: its status, where its files are, its progress."""

    def __init__(self, sfn: Any, s3: Any, arn: str) -> None:
        self.sfn = sfn
        self.s3 = s3
        self.arn = arn
        self.opened: OpenedBatch | None = None
        self.records: Records | None = None
        self.progress: Progress | None = None

    def look(self) -> Execution:
        """The execution as it stands, with its progress measured (once the batch has been read)."""
        events = history(self.sfn, self.arn)
        execution = described(self.sfn, self.arn, events)
        # S3 is read after the status: once that says the batch has ended, every record is in.
        self.opened = self.opened or opened_batch(events)
        if self.opened is not None:
            self.records = self.records or Records(self.s3, self.opened.batch)
            self.progress = self._measure(events, self.opened, self.records)
        return execution

    def batch_name(self) -> str:
        """The batch's name: as "Read the batch" found it, else as the execution was asked to name it."""
        if self.opened is not None:
            return self.opened.batch.name
        found = self.sfn.describe_execution(executionArn=self.arn)
        try:
            request = json.loads(found.get("input") or "{}")
        except ValueError:
            request = None
        given = request.get("batch") if isinstance(request, dict) else None
        # The workflow's own default: the execution's name.
        return given if isinstance(given, str) else str(found["name"])

    def follow(
        self,
        show: Callable[[Progress], None] | None,
        poll_seconds: float,
        on_look: Callable[[], None] | None = None,
    ) -> Execution:
        """Look until the execution ends, showing the progress and calling on_look after each look."""
        while True:
            execution = self.look()
            if show is not None and self.progress is not None:
                show(self.progress)
            if on_look is not None:
                on_look()
            if execution.status != "RUNNING":
                return execution
            time.sleep(poll_seconds)

    def _measure(self, events: list[dict[str, Any]], opened: OpenedBatch, records: Records) -> Progress:
        ours = records.ours()
        succeeded = sum(record.status == "SUCCEEDED" for record in ours)
        map_run = _map_run(events)
        running = 0
        if map_run is not None:
            running = self.sfn.describe_map_run(mapRunArn=map_run)["itemCounts"]["running"]
        items = opened.batch.items
        return Progress(
            batch=opened.batch.name,
            items=items,
            succeeded=succeeded,
            failed=len(ours) - succeeded,
            skipped=opened.skipped,
            # An item's record is written just before its iteration ends: never count it twice.
            running=min(running, items - len(ours) - opened.skipped),
            images=sum(record.images for record in ours),
            cost_usd=sum(record.cost_usd for record in ours),
        )


class ProgressLine:
    """The progress as one line: rewritten in place on a terminal; elsewhere (a log, a pipe) a new line
    when it changes, at most one every `gap` seconds, and the last one always."""

    def __init__(self, stream: TextIO, gap: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._gap = gap
        self._clock = clock
        self._latest = ""
        self._shown = ""
        self._shown_at = -math.inf

    def __call__(self, progress: Progress) -> None:
        self._latest = progress.line()
        if self._latest == self._shown:
            return
        if self._tty:
            # Blanks cover what is left of a longer earlier line.
            blanks = " " * max(0, len(self._shown) - len(self._latest))
            self._stream.write(f"\r{self._latest}{blanks}")
            self._stream.flush()
        elif self._clock() - self._shown_at >= self._gap:
            print(self._latest, file=self._stream, flush=True)
            self._shown_at = self._clock()
        else:
            return
        self._shown = self._latest

    def close(self) -> None:
        """End the line, with the last progress if it has not been shown yet."""
        if self._tty:
            if self._shown:
                print(file=self._stream, flush=True)
        elif self._latest != self._shown:
            print(self._latest, file=self._stream, flush=True)

"""A batch: many run requests, each an item of a Distributed Map that runs the image loop on it.

Where a batch keeps its files (all in the stack's bucket, under batches/<batch name>/):
  input.<jsonl|csv|txt|json>          the items as the user wrote them (the CLI uploads them here)
  items/<item id>.json                each item's latest outcome, written when its run ends; a re-run
                                      skips the items whose latest outcome is a success
  runs/<execution>/items.json         the items as that execution's Distributed Map reads them
  runs/<execution>/manifest.jsonl     one line per item, written when that execution ends
  runs/<execution>/batch.json         that execution's counts and where everything is

Each execution keeps its own manifest and counts, so a re-run under the same batch name leaves an
earlier execution's as they were.

Each item runs as its own image-loop run, in a folder of its own named <batch>-<item id>
(a re-run of an item that did not succeed adds -2, -3, ...), with its manifest as usual.
"""

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from common.keys import EXECUTION_NAME_PATTERN, EXECUTION_NAME_RULE
from common.model import Model
from common.names import BATCH_MANIFEST_FILE, MAX_BATCH_CONCURRENCY
from common.quotas import BatchPlan, PlanSettings
from common.sections import ImageRef, Strict

BATCHES_PREFIX = "batches"
# A batch name and an item id together name the item's run: "<batch>-<id>-<n>" stays within the
# 80 characters of an execution name.
BATCH_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
BATCH_NAME_RULE = "1-40 letters, digits, '-' or '_', starting with a letter or digit"
ITEM_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
ITEM_ID_RULE = "1-32 letters, digits, '-' or '_', starting with a letter or digit"
MAX_ITEMS = 10_000
# Items sent in the start request itself (the API's POST /batches); more go in a file in S3.
MAX_INLINE_ITEMS = 100
MAX_INPUT_BYTES = 20 * 1024 * 1024
# How many items of a batch run at once: the one rule, wherever a concurrency is read.
Concurrency = Annotated[int, Field(ge=1, le=MAX_BATCH_CONCURRENCY)]
Format = Literal["jsonl", "csv", "text", "json"]
# The file name each form is stored under, and the forms a file's extension names.
STORED_NAMES: dict[Format, str] = {
    "jsonl": "input.jsonl",
    "csv": "input.csv",
    "text": "input.txt",
    "json": "input.json",
}
EXTENSIONS: dict[str, Format] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".txt": "text", ".json": "json"}

_BATCH_NAME = re.compile(BATCH_NAME_PATTERN)
_ITEM_ID = re.compile(ITEM_ID_PATTERN)
_EXECUTION_NAME = re.compile(EXECUTION_NAME_PATTERN)


def valid_item_id(value: str) -> bool:
    return _ITEM_ID.match(value) is not None


def format_of(key: str) -> Format | None:
    suffix = "." + key.rsplit(".", 1)[-1].lower() if "." in key else ""
    return EXTENSIONS.get(suffix)


class BatchKeys:
    """S3 keys of a batch, built from a checked name only."""

    def __init__(self, name: str) -> None:
        if not _BATCH_NAME.match(name):
            raise ValueError(f"batch: must be {BATCH_NAME_RULE}")
        self.name = name
        self.folder = f"{BATCHES_PREFIX}/{name}"

    def input(self, form: Format) -> str:
        return f"{self.folder}/{STORED_NAMES[form]}"

    def items(self, execution_name: str) -> str:
        return f"{self._run(execution_name)}/items.json"

    def manifest(self, execution_name: str) -> str:
        return f"{self._run(execution_name)}/{BATCH_MANIFEST_FILE}"

    def summary(self, execution_name: str) -> str:
        return f"{self._run(execution_name)}/batch.json"

    def record(self, item_id: str) -> str:
        return f"{self.folder}/items/{item_id}.json"

    @property
    def records_prefix(self) -> str:
        return f"{self.folder}/items/"

    def _run(self, execution_name: str) -> str:
        # The name is part of a key: only a checked execution name may be.
        if not _EXECUTION_NAME.match(execution_name):
            raise ValueError(f"execution: must be {EXECUTION_NAME_RULE}")
        return f"{self.folder}/runs/{execution_name}"

    def run_name(self, item_id: str, tries: int) -> str:
        """The item's run (and run folder) name; a re-run after a failure gets a new one."""
        return f"{self.name}-{item_id}" + (f"-{tries + 1}" if tries else "")


class BatchRequest(Strict):
    """What the batch state machine is started with."""

    # The batch's name (defaults to the execution's): a re-run under the same name skips the items
    # that already succeeded.
    batch: str | None = Field(default=None, pattern=BATCH_NAME_PATTERN)
    # The items: a file in the stack's bucket (its form from `format` or its extension) ...
    input: ImageRef | None = None
    format: Format | None = None
    # ... or the items themselves: request objects, or prompts as plain strings.
    items: list[dict[str, Any] | str] | None = Field(default=None, min_length=1, max_length=MAX_INLINE_ITEMS)
    # Request fields every item starts from; an item's own fields win (sections merge field by field).
    defaults: dict[str, Any] = Field(default_factory=dict)
    # How many items run at once (default: the stack's imgloop:batch_concurrency, else the batch's plan sets it
    # from the models' quotas; an explicit one is kept, with a warning in the plan if it would be throttled).
    concurrency: Concurrency | None = None
    # The whole batch's spending cap: refused before any item when its worst case is over it.
    max_cost_usd: float | None = Field(default=None, ge=0.01)  # a cent at least, as a run's
    # The quotas and latencies the plan uses, in place of the account's quotas and the models' usual latencies.
    plan: PlanSettings | None = None

    @model_validator(mode="after")
    def _one_source(self) -> "BatchRequest":
        if "id" in self.defaults:
            raise ValueError("defaults.id: each item has its own id; defaults cannot give one")
        if (self.input is None) == (self.items is None):
            raise ValueError("input or items: give exactly one (a file in S3, or the items themselves)")
        if self.items is not None and self.format is not None:
            raise ValueError("format: only with input (items given inline are already read)")
        return self


class ExecutionRef(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(pattern=EXECUTION_NAME_PATTERN)


class BatchItem(Model):
    """One element of items.json: what one iteration of the Distributed Map gets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    index: int = Field(ge=0)
    line: int = Field(ge=1)  # where the item is in the input (1 = the first line; inline: its position)
    id: str = Field(pattern=ITEM_ID_PATTERN)
    name: str = Field(pattern=EXECUTION_NAME_PATTERN)  # its run's name
    request: dict[str, Any] | None = None
    error: str | None = None  # why the line could not be read as a request (it then ends as InvalidInput)
    skip: bool = False  # it succeeded in an earlier execution of this batch


class Batch(Model):
    """Where the batch's files are and how it runs: `$.batch` in the batch state machine."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=BATCH_NAME_PATTERN)
    bucket: str
    folder: str
    items_key: str
    items: int = Field(ge=1, le=MAX_ITEMS)
    concurrency: Concurrency
    execution: ExecutionRef

    @model_validator(mode="after")
    def _own_places(self) -> "Batch":
        keys = BatchKeys(self.name)
        if (self.folder, self.items_key) != (keys.folder, keys.items(self.execution.name)):
            raise ValueError("folder and items_key must be the batch's own: batches/<batch>/...")
        return self

    @property
    def keys(self) -> BatchKeys:
        return BatchKeys(self.name)


ItemStatus = Literal["SUCCEEDED", "FAILED"]


class ItemOutcome(Model):
    """How an item's run ended, as the loop's last state tells it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    status: ItemStatus
    error: str | None = None
    cause: str | None = None
    # The run's manifest, when the run got as far as opening one.
    bucket: str | None = None
    manifest_key: str | None = None


class ItemRecord(Model):
    """An item's latest outcome (items/<id>.json), and its line in the batch manifest."""

    index: int
    line: int
    id: str = Field(pattern=ITEM_ID_PATTERN)  # it names the item's record and, on this machine, its folder
    status: ItemStatus
    skipped: bool = False  # succeeded in an earlier execution; this one left it alone
    error: str | None = None
    cause: str | None = None
    run: str = Field(pattern=EXECUTION_NAME_PATTERN)  # the run's name, which is its folder's name
    runs: list[str] = Field(default_factory=list)  # every run this item had, oldest first
    execution: str  # the batch execution that ran it last
    images: int = 0
    winner: str | None = None  # s3:// URI of the accepted image
    best: str | None = None  # s3:// URI of the best-scored image, when none was accepted
    score: int | None = None  # the winner's (or best image's) score out of 10
    prompt: str | None = None
    manifest: str | None = None  # s3:// URI of the run's manifest
    finished_at: str | None = None
    cost_usd: float = 0  # what the run's model calls cost (its manifest's entries)


def manifest_line(item: BatchItem, record: ItemRecord | None, execution: str) -> ItemRecord | None:
    """The item's line in the manifest of `execution`, from the item's record, when the record is the
    outcome that execution answers for: its own, or for an item it skips, the earlier success it skips by.
    None when it is neither: the execution's outcome for the item was never filed."""
    if record is None or not (item.skip or record.execution == execution):
        return None
    return record.model_copy(update={"index": item.index, "line": item.line, "skipped": item.skip})


class BatchCounts(Model):
    items: int
    succeeded: int  # in this execution
    failed: int
    skipped: int  # succeeded in an earlier execution
    images: int  # made in this execution
    cost_usd: float = 0  # what this execution's runs' model calls cost


class BatchSummary(BatchCounts):
    """The batch execution's output, and batch.json."""

    status: Literal["SUCCEEDED"] = "SUCCEEDED"
    batch: str
    execution: str
    bucket: str
    manifest_key: str
    summary_key: str
    errors: dict[str, int]  # failed items by error name
    message: str
    plan: BatchPlan | None = None  # the concurrency the batch ran at, and why

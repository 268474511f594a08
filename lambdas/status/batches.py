"""What `GET /batches/{id}` answers: a batch execution's status; while it runs, how far its items have
got (its Map Run's counts); once it has succeeded, its summary, a short-lived URL of its manifest and,
on request, a page of the manifest's lines."""

import json
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from common.batches import BatchKeys, BatchSummary, ItemRecord
from common.errors import InvalidInput
from common.model import Model
from common.request import explain
from status.logic import URL_SECONDS, ExecutionStatus, find_execution

MAX_PAGE = 1000


class ItemsQuery(Model):
    """The query string: `?items=true` adds up to `limit` manifest lines from line `offset` (0 = the first)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    items: bool = False
    offset: int = Field(default=0, ge=0)
    limit: int = Field(default=100, ge=1, le=MAX_PAGE)


class Progress(Model):
    stage: Literal["reading the items", "running the items", "writing the manifest"]
    # The Map Run's counts, once it has started: its items, those whose run has ended, running, waiting.
    items: int | None = None
    done: int = 0
    running: int = 0
    pending: int = 0


class BatchStatus(ExecutionStatus):
    batch: str | None = None  # the batch's name: the body's `batch`, else the id
    progress: Progress | None = None
    summary: BatchSummary | None = None
    manifest_url: str | None = None
    items: list[ItemRecord] | None = None
    next_offset: int | None = None


def read_query(parameters: dict[str, str] | None) -> ItemsQuery:
    try:
        return ItemsQuery.model_validate(parameters or {})
    except ValidationError as error:
        raise InvalidInput(explain(error)) from None


def describe_batch(name: str, state_machine_arn: str, query: ItemsQuery, sfn: Any, s3: Any) -> BatchStatus | None:
    """None when the batch state machine has no execution of that name."""
    execution = find_execution(name, state_machine_arn, sfn)
    if execution is None:
        return None
    status, found = execution
    batch = BatchStatus(**status.model_dump(), batch=_batch_name(found.get("input"), name))
    if status.status == "RUNNING":
        return batch.model_copy(update={"progress": progress(sfn, status.execution_arn)})
    if status.status != "SUCCEEDED" or not found.get("output"):
        return batch
    # The execution's output is its summary, which names the manifest this execution wrote.
    summary = BatchSummary.model_validate_json(found["output"])
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": summary.bucket, "Key": summary.manifest_key}, ExpiresIn=URL_SECONDS
    )
    page = _page(s3, summary, query) if query.items else {}
    return batch.model_copy(update={"batch": summary.batch, "summary": summary, "manifest_url": url, **page})


def progress(sfn: Any, execution_arn: str) -> Progress:
    """Where a running batch is, from its Map Run (there is none before the items are read)."""
    runs = sfn.list_map_runs(executionArn=execution_arn)["mapRuns"]
    if not runs:
        return Progress(stage="reading the items")
    latest = max(runs, key=lambda run: run["startDate"])
    run = sfn.describe_map_run(mapRunArn=latest["mapRunArn"])
    counts = run["itemCounts"]
    return Progress(
        stage="running the items" if run["status"] == "RUNNING" else "writing the manifest",
        items=counts["total"],
        done=counts["succeeded"] + counts["failed"] + counts["timedOut"] + counts["aborted"],
        running=counts["running"],
        pending=counts["pending"],
    )


def _batch_name(raw_input: str | None, name: str) -> str | None:
    """The name "Read the batch" gives the batch: the input's `batch`, else the execution's name; None
    when that is no batch name (the batch is then rejected)."""
    try:
        given = json.loads(raw_input or "{}")
    except ValueError:
        return None
    if not isinstance(given, dict):
        return None
    chosen = name if given.get("batch") is None else given["batch"]
    try:
        return BatchKeys(chosen).name if isinstance(chosen, str) else None
    except ValueError:
        return None


def _page(s3: Any, summary: BatchSummary, query: ItemsQuery) -> dict[str, Any]:
    # One line per item, split on "\n" only: a prompt may hold U+2028 and the like, which JSON keeps raw.
    text = s3.get_object(Bucket=summary.bucket, Key=summary.manifest_key)["Body"].read().decode()
    lines = [line for line in text.split("\n") if line]
    chosen = lines[query.offset : query.offset + query.limit]
    following = query.offset + len(chosen)
    return {
        "items": [ItemRecord.model_validate_json(line) for line in chosen],
        "next_offset": following if following < len(lines) else None,
    }

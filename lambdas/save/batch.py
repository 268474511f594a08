"""Keep a batch's record: read its items and write what the Distributed Map reads, file each item's
outcome as its run ends, and write the batch manifest when all have ended."""

import json
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from pydantic import ValidationError

from common.batch_input import ReadItem, from_list, item_id, merged, read_items
from common.batches import (
    MAX_INPUT_BYTES,
    Batch,
    BatchCounts,
    BatchItem,
    BatchKeys,
    BatchRequest,
    BatchSummary,
    ExecutionRef,
    ItemOutcome,
    ItemRecord,
    format_of,
    manifest_line,
)
from common.errors import InvalidInput, shown
from common.manifest import Manifest, now
from common.quotas import BatchPlan
from common.request import explain
from common.results import ItemRecorded, OpenedBatch
from common.settings import Settings
from common.spend import run_cost
from common.tasks import RecordItem
from save.batch_cap import check_batch_cap
from save.plan import batch_plan

_MISSING = ("404", "NoSuchKey", "NotFound")
# S3 reads of item records run this many at a time (a batch has up to 10,000 items).
_READERS = 32
T = TypeVar("T")
R = TypeVar("R")


def open_batch(raw: Any, execution: ExecutionRef, settings: Settings, s3: Any, quotas: Any) -> OpenedBatch:
    """Read the batch's items, mark those an earlier execution of the batch finished, plan how many run at
    once (from the models' quotas, read with the Service Quotas client `quotas`), and write the list the
    Distributed Map reads. InvalidInput when the batch as a whole cannot run."""
    try:
        request = BatchRequest.model_validate(raw)
    except ValidationError as error:
        raise InvalidInput(explain(error)) from None
    try:
        keys = BatchKeys(request.batch or execution.name)
    except ValueError as error:
        raise InvalidInput(f"{error} (the execution's name is too long to name it: give `batch`)") from None
    read = _read(request, settings, s3)
    earlier = _records(s3, settings.output_bucket, keys, {item_id(item)[0] for item in read})
    items = _items(read, request.defaults, keys, earlier)
    check_batch_cap(request.max_cost_usd, items, settings)
    running = [item for item in items if not item.skip and item.error is None]
    plan = batch_plan(running, request.concurrency, request.plan, settings, quotas)
    batch = Batch(
        name=keys.name,
        bucket=settings.output_bucket,
        folder=keys.folder,
        items_key=keys.items(execution.name),
        items=len(items),
        concurrency=plan.concurrency,
        execution=execution,
    )
    body = json.dumps([item.model_dump(mode="json") for item in items], ensure_ascii=False)
    s3.put_object(Bucket=batch.bucket, Key=batch.items_key, Body=body.encode(), ContentType="application/json")
    return OpenedBatch(
        batch=batch,
        skipped=sum(item.skip for item in items),
        unreadable=sum(item.error is not None for item in items),
        plan=plan,
    )


def _read(request: BatchRequest, settings: Settings, s3: Any) -> list[ReadItem]:
    if request.items is not None:
        return from_list(request.items)
    source = request.input
    assert source is not None  # BatchRequest holds one of the two
    where = f"s3://{source.bucket}/{source.key}"
    if source.bucket not in settings.allowed_buckets:
        raise InvalidInput(
            f"input: {where} is not in a bucket this stack may read ({', '.join(settings.allowed_buckets)})"
        )
    form = request.format or format_of(source.key)
    if form is None:
        raise InvalidInput(
            f"format: the extension of {shown(source.key)} does not say the form of its items (.jsonl, .csv, .txt, "
            ".json); give format: jsonl, csv, text or json"
        )
    try:
        found = s3.get_object(Bucket=source.bucket, Key=source.key, Range=f"bytes=0-{MAX_INPUT_BYTES}")
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            raise InvalidInput(f"input: no object at {where}") from None
        raise
    data = found["Body"].read()
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidInput(f"input: {where} is larger than {MAX_INPUT_BYTES // 2**20} MiB")
    return read_items(data, form)


def _items(
    read: list[ReadItem], defaults: dict[str, Any], keys: BatchKeys, earlier: dict[str, ItemRecord]
) -> list[BatchItem]:
    items: list[BatchItem] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(read):
        id_, error = item_id(entry)
        error = error or entry.error
        if id_ in seen:
            # The first line keeps the id; a later one gets its line's, and says why it does not run.
            error, id_ = f"line {entry.line}: id {id_!r} is also the id of line {seen[id_]}", f"{entry.line:05d}"
        seen.setdefault(id_, entry.line)
        before = earlier.get(id_)
        done = before is not None and before.status == "SUCCEEDED" and error is None
        request = None
        if error is None and entry.request is not None:
            request = merged(defaults, {k: v for k, v in entry.request.items() if k != "id"})
        tries = len(before.runs) if before is not None else 0
        items.append(
            BatchItem(
                index=index,
                line=entry.line,
                id=id_,
                name=before.run if done and before is not None else keys.run_name(id_, tries),
                request=None if done else request,
                error=error,
                skip=done,
            )
        )
    return items


def record_item(task: RecordItem, s3: Any) -> ItemRecorded:
    """File how the item's run ended, with what its manifest says about the images."""
    batch, item, outcome = task.batch, task.item, task.outcome
    key = batch.keys.record(item.id)
    before = _read_record(s3, batch.bucket, key)
    runs = [*(before.runs if before else []), item.name]
    cause = outcome.cause
    if outcome.error == "InvalidInput" and cause is not None and not cause.startswith("line "):
        # Check input names the field; the manifest line says which line of the input it was on.
        cause = f"line {item.line}: {cause}"
    record = ItemRecord(
        index=item.index,
        line=item.line,
        id=item.id,
        status=outcome.status,
        error=outcome.error,
        cause=cause,
        run=item.name,
        runs=list(dict.fromkeys(runs)),
        execution=batch.execution.name,
        finished_at=now(),
        **_images(s3, outcome),
    )
    _put_json(s3, batch.bucket, key, record.model_dump(mode="json"))
    return ItemRecorded(id=item.id, status=record.status, error=record.error)


def _images(s3: Any, outcome: ItemOutcome) -> dict[str, Any]:
    """What the run's manifest says: images made, the winner or the best image, its score and prompt."""
    if outcome.bucket is None or outcome.manifest_key is None:
        return {}
    try:
        body = s3.get_object(Bucket=outcome.bucket, Key=outcome.manifest_key)["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            return {}
        raise
    manifest = Manifest.model_validate_json(body)
    uri = f"s3://{outcome.bucket}/"
    images = sum(1 for e in manifest.entries if e.outcome == "image")
    found: dict[str, Any] = {
        "images": images,
        "manifest": uri + outcome.manifest_key,
        "cost_usd": run_cost(manifest).total_usd,
    }
    winner = manifest.winner
    chosen = manifest.entry(winner.revision, winner.attempt, winner.candidate) if winner else manifest.best()
    if chosen is not None and chosen.key:
        found["winner" if winner else "best"] = uri + chosen.key
        found["score"] = chosen.verdict.score if chosen.verdict else None
        found["prompt"] = chosen.prompt
    return found


def close_batch(batch: Batch, plan: BatchPlan | None, s3: Any) -> BatchSummary:
    """One manifest line per item, in input order, and the counts. An item whose record is missing or
    older than this execution (its recording failed) is counted failed as ItemNotRecorded."""
    body = s3.get_object(Bucket=batch.bucket, Key=batch.items_key)["Body"].read()
    items = [BatchItem.model_validate(value) for value in json.loads(body)]
    keys = batch.keys
    records = _parallel(lambda item: _read_record(s3, batch.bucket, keys.record(item.id)), items)
    lines = [_line(batch, item, record) for item, record in zip(items, records, strict=True)]
    counts = BatchCounts(
        items=len(lines),
        succeeded=sum(line.status == "SUCCEEDED" and not line.skipped for line in lines),
        failed=sum(line.status == "FAILED" for line in lines),
        skipped=sum(line.skipped for line in lines),
        images=sum(line.images for line in lines if not line.skipped),
        cost_usd=round(sum(line.cost_usd for line in lines if not line.skipped), 6),
    )
    errors: dict[str, int] = {}
    for line in lines:
        if line.status == "FAILED":
            errors[line.error or "Unknown"] = errors.get(line.error or "Unknown", 0) + 1
    execution = batch.execution.name
    summary = BatchSummary(
        **counts.model_dump(),
        batch=batch.name,
        execution=execution,
        bucket=batch.bucket,
        manifest_key=keys.manifest(execution),
        summary_key=keys.summary(execution),
        errors=dict(sorted(errors.items())),
        message=_message(counts, errors),
        plan=plan,
    )
    text = "\n".join(json.dumps(line.model_dump(mode="json"), ensure_ascii=False) for line in lines) + "\n"
    s3.put_object(Bucket=batch.bucket, Key=summary.manifest_key, Body=text.encode(), ContentType="application/x-ndjson")
    _put_json(s3, batch.bucket, summary.summary_key, summary.model_dump(mode="json"))
    return summary


def _line(batch: Batch, item: BatchItem, record: ItemRecord | None) -> ItemRecord:
    line = manifest_line(item, record, batch.execution.name)
    if line is not None:
        return line
    return ItemRecord(
        index=item.index,
        line=item.line,
        id=item.id,
        status="FAILED",
        error="ItemNotRecorded",
        cause="the item's run ended without its outcome being filed; see the batch execution's Map Run",
        run=item.name,
        runs=[*(record.runs if record else []), item.name],
        execution=batch.execution.name,
    )


def _message(counts: BatchCounts, errors: dict[str, int]) -> str:
    text = f"{counts.items} item(s): {counts.succeeded} succeeded, {counts.failed} failed"
    if counts.skipped:
        text += f", {counts.skipped} skipped (succeeded before)"
    text += f"; {counts.images} image(s) made."
    if errors:
        text += " Failed: " + ", ".join(f"{name} x{count}" for name, count in sorted(errors.items())) + "."
    return text


def _records(s3: Any, bucket: str, keys: BatchKeys, ids: set[str]) -> dict[str, ItemRecord]:
    """The records an earlier execution of this batch left, for the given item ids."""
    present: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=keys.records_prefix):
        for entry in page.get("Contents", []):
            name = entry["Key"][len(keys.records_prefix) :].removesuffix(".json")
            if name in ids:
                present.append(name)
    found = _parallel(lambda id_: _read_record(s3, bucket, keys.record(id_)), present)
    return {id_: record for id_, record in zip(present, found, strict=True) if record is not None}


def _read_record(s3: Any, bucket: str, key: str) -> ItemRecord | None:
    try:
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error.response["Error"]["Code"] in _MISSING:
            return None
        raise
    return ItemRecord.model_validate_json(body)


def _parallel(read: Callable[[T], R], values: Iterable[T]) -> list[R]:
    with ThreadPoolExecutor(max_workers=_READERS) as pool:
        return list(pool.map(read, values))


def _put_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    body = json.dumps(value, ensure_ascii=False, indent=1).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")

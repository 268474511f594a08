"""A batch's folder on this machine: its files fetched from S3, and put back into a fresh local account.

    OUT/<batch>/manifest.jsonl, batch.json   the execution's manifest and counts, once it has ended
    OUT/<batch>/items/<id>.json              each item's record, as batches/<batch>/items/<id>.json keeps it
    OUT/<batch>/items/<id>/                  the item's run: images, manifest.json, execution.json, report.html
    OUT/<batch>/report.html                  the batch report (imgloop.batch.report)

Each `--local` invocation is a new moto account, so this folder is also where a local batch lives between
invocations: `earlier_state` gives back what S3 held, for the next execution to find and skip.
"""

import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from botocore.exceptions import ClientError

from common.batches import BatchItem, BatchKeys, BatchSummary, ItemRecord, manifest_line, valid_item_id
from common.manifest import Manifest
from common.names import BATCH_MANIFEST_FILE, EXECUTION_FILE, MANIFEST_FILE
from common.results import OpenedBatch
from imgloop.batch.progress import MISSING, Records
from imgloop.runs.executions import REPORT_FILE, Execution, copy_run
from imgloop.runs.report import report_from_local_run

MANIFEST = BATCH_MANIFEST_FILE
SUMMARY = "batch.json"
ITEMS = "items"
# Item folders are fetched this many at a time.
_FETCHERS = 8


@dataclass(frozen=True)
class FetchedBatch:
    folder: Path
    items: list[ItemRecord]  # the manifest's lines; before the manifest exists, the items finished so far
    manifest: Path | None


def batch_summary(execution: Execution) -> BatchSummary | None:
    """What the batch ended with (its output, as batch.json keeps it); None unless it succeeded."""
    if execution.status != "SUCCEEDED" or execution.output is None:
        return None
    return BatchSummary.model_validate(execution.output)


def split_uri(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class KeptItems:
    """The items a batch execution has finished, fetched into out_dir/<batch> as each one ends, so that a
    command stopped half way keeps them (and a local batch run again skips them); each is fetched once."""

    def __init__(self, s3: Any, out_dir: Path) -> None:
        self._s3 = s3
        self._out_dir = out_dir
        self._kept: set[tuple[str, str]] = set()

    def keep(self, opened: OpenedBatch, records: Records) -> None:
        """Fetch the items this execution has finished since the last call."""
        self.fetch(opened, [record for record in records.ours() if (record.id, record.run) not in self._kept])

    @property
    def count(self) -> int:
        return len(self._kept)

    def fetch(self, opened: OpenedBatch, items: list[ItemRecord]) -> None:
        batch = opened.batch
        folder = self._out_dir / batch.name / ITEMS
        folder.mkdir(parents=True, exist_ok=True)
        todo = [item for item in items if (item.id, item.run) not in self._kept]
        with ThreadPoolExecutor(max_workers=_FETCHERS) as pool:
            list(pool.map(lambda item: _fetch_item(self._s3, batch.keys, batch.bucket, item, folder), todo))
        self._kept.update((item.id, item.run) for item in todo)


def fetch_batch(
    s3: Any, opened: OpenedBatch, records: Records, execution: Execution, out_dir: Path, kept: KeptItems | None = None
) -> FetchedBatch:
    """Copy the execution's manifest, the batch's records and the item runs into out_dir/<batch> (those
    `kept` has not fetched yet), and write each item's report."""
    batch = opened.batch
    folder = out_dir / batch.name
    manifest = None
    summary = batch_summary(execution)
    if summary is not None:
        folder.mkdir(parents=True, exist_ok=True)
        _download(s3, batch.bucket, summary.summary_key, folder / SUMMARY)
        manifest = _download(s3, batch.bucket, summary.manifest_key, folder / MANIFEST)
        # Lines end at "\n" only: a prompt may hold U+2028 and the like, which JSON keeps raw.
        text = manifest.read_text(encoding="utf-8")
        items = [ItemRecord.model_validate_json(line) for line in text.split("\n") if line.strip()]
    else:
        items = _so_far(s3, opened, records.read())
    (kept or KeptItems(s3, out_dir)).fetch(opened, items)
    return FetchedBatch(folder, items, manifest)


def _download(s3: Any, bucket: str, key: str, path: Path) -> Path:
    path.write_bytes(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    return path


def _so_far(s3: Any, opened: OpenedBatch, records: dict[str, ItemRecord]) -> list[ItemRecord]:
    """Before the batch manifest exists: the items this execution finished, and those it skips, in input
    order, as the manifest will list them."""
    batch = opened.batch
    body = s3.get_object(Bucket=batch.bucket, Key=batch.items_key)["Body"].read()
    items = [BatchItem.model_validate(value) for value in json.loads(body)]
    lines = [manifest_line(item, records.get(item.id), batch.execution.name) for item in items]
    return [line for line in lines if line is not None]


def _fetch_item(s3: Any, keys: BatchKeys, bucket: str, item: ItemRecord, items: Path) -> None:
    _fetch_run(s3, item, items / item.id)
    # The record last: a record in the folder says its run is there too (earlier_state relies on it).
    with _unless_missing():
        # An item not recorded (ItemNotRecorded) has its manifest line only.
        _download(s3, bucket, keys.record(item.id), items / f"{item.id}.json")


def _fetch_run(s3: Any, item: ItemRecord, target: Path) -> None:
    if _run_name(target) not in (None, item.run):
        shutil.rmtree(target)  # an earlier run of the item, which this one replaces
    if item.manifest is None:
        return  # the item never ran (its line was unreadable, or its request was refused)
    run_bucket, key = split_uri(item.manifest)
    with _unless_missing():
        # Gone from S3, or in a bucket this account does not have (a local re-run of a deployed batch):
        # the folder keeps what was fetched before.
        copy_run(s3, run_bucket, str(PurePosixPath(key).parent), target)
    if not (target / MANIFEST_FILE).is_file():
        return
    succeeded = item.status == "SUCCEEDED"
    # The item's outcome as a run's execution.json says it, for its report's header.
    execution = {
        "status": item.status,
        "output": {"message": item.cause} if succeeded else None,
        "error": item.error,
        "cause": None if succeeded else item.cause,
    }
    (target / EXECUTION_FILE).write_text(json.dumps(execution, indent=2, ensure_ascii=False), encoding="utf-8")
    (target / REPORT_FILE).write_text(report_from_local_run(target), encoding="utf-8")


@contextmanager
def _unless_missing() -> Iterator[None]:
    """Go on when the object or its bucket is not there; other refusals still stop the command."""
    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in MISSING:
            raise


def _run_name(target: Path) -> str | None:
    manifest = target / MANIFEST_FILE
    if not manifest.is_file():
        return None
    return Manifest.model_validate_json(manifest.read_bytes()).execution_name


def picture(folder: Path, item: ItemRecord) -> str | None:
    """The winner's (or best image's) file in the item's folder, relative to the batch folder."""
    uri = item.winner or item.best
    if uri is None:
        return None
    relative = f"{ITEMS}/{item.id}/{PurePosixPath(split_uri(uri)[1]).name}"
    return relative if (folder / relative).is_file() else None


def earlier_state(folder: Path, batch: str, bucket: str) -> list[tuple[str, bytes]]:
    """What S3 held after the earlier executions of a local batch, rebuilt from its folder as (key, bytes):
    every item's record, and the run of each item that succeeded, which the next execution skips."""
    keys = BatchKeys(batch)
    files = []
    for path in sorted((folder / ITEMS).glob("*.json")):
        if not valid_item_id(path.stem):
            continue
        data = path.read_bytes()
        files.append((keys.record(path.stem), data))
        record = ItemRecord.model_validate_json(data)
        if record.status == "SUCCEEDED" and record.manifest is not None:
            files.extend(_run_files(folder / ITEMS / path.stem, record.manifest, bucket))
    return files


def _run_files(target: Path, manifest_uri: str, bucket: str) -> list[tuple[str, bytes]]:
    """The run's manifest and images, at the keys they had; none from another bucket (a deployed batch)."""
    where, key = split_uri(manifest_uri)
    manifest = target / MANIFEST_FILE
    if where != bucket or not manifest.is_file():
        return []
    run = Manifest.model_validate_json(manifest.read_bytes())
    names = [MANIFEST_FILE, *sorted({PurePosixPath(e.key).name for e in run.entries if e.key})]
    prefix = PurePosixPath(key).parent
    return [(str(prefix / name), (target / name).read_bytes()) for name in names if (target / name).is_file()]

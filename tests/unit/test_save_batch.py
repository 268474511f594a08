"""Save's batch actions on moto's S3: opening a batch writes the list its Distributed Map reads (and a
re-run's list skips what succeeded), each item's outcome is filed from its run's manifest, and closing
writes one manifest line per item in input order with the counts."""

import json
from typing import Any

import boto3
import pytest
from pydantic import ValidationError

from common.batches import BatchItem, BatchKeys, ExecutionRef, ItemOutcome, ItemRecord, ItemStatus
from common.errors import InvalidInput
from common.manifest import Entry, Manifest, Verdict, Winner
from common.results import OpenedBatch
from common.settings import Settings, current
from common.tasks import RecordItem
from imgloop.local.standin.quota import QuotaMeter, Quotas
from save.batch import close_batch, open_batch, record_item

FIRST = ExecutionRef(id="arn:aws:states:us-west-2:123456789012:execution:ImageLoop-batches:first", name="first")
SECOND = ExecutionRef(id="arn:aws:states:us-west-2:123456789012:execution:ImageLoop-batches:second", name="second")
ID_RULE = "must be 1-32 letters, digits, '-' or '_', starting with a letter or digit"


def _service_quotas() -> Any:
    """A Service Quotas client that lists no Bedrock quota: the plan uses its defaults."""
    client = boto3.client("service-quotas", region_name="us-west-2")
    client.meta.events.register("before-call.service-quotas.*", QuotaMeter(Quotas()).listed)
    return client


quotas = _service_quotas()


@pytest.fixture
def bucket(s3: Any, settings: Settings) -> str:
    s3.create_bucket(Bucket=settings.output_bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    return settings.output_bucket


def _json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _listed(s3: Any, opened: OpenedBatch) -> list[BatchItem]:
    return [BatchItem.model_validate(v) for v in _json(s3, opened.batch.bucket, opened.batch.items_key)]


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _record(s3: Any, bucket: str, record: ItemRecord) -> None:
    key = f"batches/nightly/items/{record.id}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=record.model_dump_json().encode())


def _earlier(id_: str, status: ItemStatus, runs: list[str], error: str | None = None) -> ItemRecord:
    winner = f"s3://stack-bucket/generated-images/{runs[-1]}/r00-a01.png" if status == "SUCCEEDED" else None
    return ItemRecord(
        index=0, line=1, id=id_, status=status, error=error, run=runs[-1], runs=runs, execution="first", winner=winner
    )


# Opening a batch.
def test_open_batch_writes_the_items_the_map_reads_with_ids_names_and_defaults(
    s3: Any, settings: Settings, bucket: str
) -> None:
    request = {
        "batch": "nightly",
        "items": ["a fox", {"prompt": "an owl", "id": "owl", "generator": {"seed": 7}}, {"prompt": "a", "id": "a/b"}],
        "defaults": {"candidates": 2, "generator": {"aspect_ratio": "16:9", "seed": 1}},
    }

    opened = open_batch(request, FIRST, settings, s3, quotas)

    assert (opened.skipped, opened.unreadable) == (0, 1)
    assert opened.batch.model_dump() == {
        "name": "nightly",
        "bucket": bucket,
        "folder": "batches/nightly",
        "items_key": "batches/nightly/runs/first/items.json",
        "items": 3,
        # Planned from the plan's default image quota (24 a minute): 2 candidates an attempt allow 2 items.
        "concurrency": 2,
        "execution": FIRST.model_dump(),
    }
    assert _listed(s3, opened) == [
        BatchItem(
            index=0,
            line=1,
            id="00001",
            name="nightly-00001",
            request={"candidates": 2, "generator": {"aspect_ratio": "16:9", "seed": 1}, "prompt": "a fox"},
        ),
        BatchItem(
            index=1,
            line=2,
            id="owl",
            name="nightly-owl",
            # The item's id is its name, not a request field.
            request={"candidates": 2, "generator": {"aspect_ratio": "16:9", "seed": 7}, "prompt": "an owl"},
        ),
        BatchItem(index=2, line=3, id="00003", name="nightly-00003", error=f"line 3: id 'a/b' {ID_RULE}"),
    ]
    assert _keys(s3, bucket) == ["batches/nightly/runs/first/items.json"]


@pytest.mark.parametrize(
    ("key", "body", "form", "first"),
    [
        ("in/prompts.jsonl", b'{"prompt": "a fox"}\n"an owl"\n', None, 1),
        ("in/prompts.ndjson", b'{"prompt": "a fox"}\n"an owl"\n', None, 1),
        ("in/prompts.csv", b"prompt\na fox\nan owl\n", None, 2),  # ids follow the lines: the header is line 1
        ("in/PROMPTS.TXT", b"a fox\nan owl\n", None, 1),
        ("in/prompts.json", b'["a fox", {"prompt": "an owl"}]', None, 1),
        ("in/prompts.list", b"a fox\nan owl\n", "text", 1),  # format names the form the extension does not
    ],
)
def test_open_batch_reads_each_form_from_the_bucket(
    s3: Any, settings: Settings, bucket: str, key: str, body: bytes, form: str | None, first: int
) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    request: dict[str, Any] = {"batch": "nightly", "input": f"s3://{bucket}/{key}"}
    if form:
        request["format"] = form

    opened = open_batch(request, FIRST, settings, s3, quotas)

    assert [(i.line, i.id, i.request) for i in _listed(s3, opened)] == [
        (first, f"{first:05d}", {"prompt": "a fox"}),
        (first + 1, f"{first + 1:05d}", {"prompt": "an owl"}),
    ]


def test_a_duplicate_id_keeps_the_first_line_and_the_later_one_does_not_run(
    s3: Any, settings: Settings, bucket: str
) -> None:
    items = [{"prompt": "a fox", "id": "fox"}, {"prompt": "a cat", "id": "../cat"}, {"prompt": "a fox", "id": "fox"}]

    opened = open_batch({"batch": "nightly", "items": items}, FIRST, settings, s3, quotas)

    listed = _listed(s3, opened)
    assert [(i.id, i.request is None, i.error) for i in listed] == [
        ("fox", False, None),
        ("00002", True, f"line 2: id '../cat' {ID_RULE}"),
        ("00003", True, "line 3: id 'fox' is also the id of line 1"),
    ]
    assert opened.unreadable == 2


def test_the_batch_is_named_after_its_execution_unless_it_says_and_runs_as_concurrently_as_it_asks(
    s3: Any, settings: Settings, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    unnamed = open_batch({"items": ["a fox"], "concurrency": 9}, FIRST, settings, s3, quotas)
    monkeypatch.setenv("BATCH_CONCURRENCY", "12")
    default = open_batch({"batch": "nightly", "items": ["a fox"]}, SECOND, current(), s3, quotas)

    assert (unnamed.batch.name, unnamed.batch.items_key, unnamed.batch.concurrency) == (
        "first",
        "batches/first/runs/first/items.json",
        9,
    )
    assert (default.batch.name, default.batch.concurrency) == ("nightly", 12)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"batch": "nightly"}, r"^input or items: give exactly one"),
        (
            {"batch": "nightly", "items": ["a"], "input": "s3://stack-bucket/in.jsonl"},
            r"^input or items: give",
        ),
        ({"batch": "nightly", "items": ["a"], "format": "csv"}, r"^format: only with input"),
        ({"batch": "nightly", "items": []}, r"^items: List should have at least 1 item"),
        ({"batch": "nightly", "items": ["a", 7]}, r"^items\.1\.dict\[str,any\]: Input should be a valid dictionary"),
        ({"batch": "nightly", "items": ["a"] * 101}, r"^items: List should have at most 100 items"),
        ({"batch": "nightly", "items": ["a"], "concurrency": 101}, r"^concurrency: "),
        ({"batch": "n" * 41, "items": ["a"]}, r"^batch: String should match pattern"),
        ({"batch": "../up", "items": ["a"]}, r"^batch: String should match pattern"),
        ({"batch": "nightly", "items": ["a"], "defaults": {"id": "x"}}, r"^defaults\.id: each item has its own id"),
        (
            {"batch": "nightly", "input": "s3://stack-bucket/in/prompts"},
            r"^format: the extension of in/prompts does not say",
        ),
        (
            {"batch": "nightly", "input": "s3://stack-bucket/in/prompts.xlsx"},
            r"^format: the extension of in/prompts\.xlsx does not",
        ),
        ({"batch": "nightly", "input": "s3://stack-bucket/in/none.jsonl"}, r"^input: no object at s3://stack-bucket/"),
        ({"batch": "nightly", "input": "s3://other-bucket/p.jsonl"}, r"^input: s3://other-bucket/p\.jsonl is not in a"),
        ({"batch": "nightly", "input": "s3://stack-bucket/in/empty.txt"}, r"^input: holds no items"),
    ],
)
def test_a_batch_that_cannot_run_is_refused_naming_the_field_before_anything_is_written(
    s3: Any, settings: Settings, bucket: str, request_: dict[str, Any], message: str
) -> None:
    s3.put_object(Bucket=bucket, Key="in/empty.txt", Body=b"\n\n")

    with pytest.raises(InvalidInput, match=message):
        open_batch(request_, FIRST, settings, s3, quotas)

    assert _keys(s3, bucket) == ["in/empty.txt"]


def test_an_execution_name_too_long_to_name_the_batch_asks_for_one(s3: Any, settings: Settings, bucket: str) -> None:
    long = ExecutionRef(id="arn:aws:states:us-west-2:123456789012:execution:m:x", name="x" * 41)

    with pytest.raises(InvalidInput, match=r"^batch: must be 1-40 .*\(the execution's name is too long to name it"):
        open_batch({"items": ["a fox"]}, long, settings, s3, quotas)


def test_an_input_larger_than_the_limit_is_refused(
    s3: Any, settings: Settings, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("save.batch.MAX_INPUT_BYTES", 16)
    s3.put_object(Bucket=bucket, Key="in/fits.txt", Body=b"a fox\nan owl\n")
    s3.put_object(Bucket=bucket, Key="in/big.txt", Body=b"a fox\nan owl\na cat\n")

    assert (
        open_batch({"batch": "nightly", "input": f"s3://{bucket}/in/fits.txt"}, FIRST, settings, s3, quotas).batch.items
        == 2
    )
    with pytest.raises(InvalidInput, match=r"^input: s3://stack-bucket/in/big\.txt is larger than 0 MiB$"):
        open_batch({"batch": "nightly", "input": f"s3://{bucket}/in/big.txt"}, FIRST, settings, s3, quotas)


def test_a_rerun_skips_what_succeeded_and_runs_what_failed_under_a_new_name(
    s3: Any, settings: Settings, bucket: str
) -> None:
    _record(s3, bucket, _earlier("done", "SUCCEEDED", ["nightly-done"]))
    _record(s3, bucket, _earlier("failed", "FAILED", ["nightly-failed"], "RequirementsNotMet"))
    _record(s3, bucket, _earlier("twice", "FAILED", ["nightly-twice", "nightly-twice-2"], "ModelThrottled"))
    _record(s3, bucket, _earlier("gone", "FAILED", ["nightly-gone"]))  # no longer in the input
    items = [
        {"prompt": "a", "id": "done"},
        {"prompt": "b", "id": "failed"},
        {"prompt": "c", "id": "twice"},
        {"prompt": "d", "id": "new"},
    ]

    opened = open_batch({"batch": "nightly", "items": items}, SECOND, settings, s3, quotas)

    assert opened.skipped == 1
    assert [(i.id, i.name, i.skip, i.request) for i in _listed(s3, opened)] == [
        ("done", "nightly-done", True, None),
        ("failed", "nightly-failed-2", False, {"prompt": "b"}),
        ("twice", "nightly-twice-3", False, {"prompt": "c"}),
        ("new", "nightly-new", False, {"prompt": "d"}),
    ]


def test_a_line_that_succeeded_before_but_no_longer_reads_runs_and_fails(
    s3: Any, settings: Settings, bucket: str
) -> None:
    _record(s3, bucket, _earlier("00002", "SUCCEEDED", ["nightly-00002"]))
    s3.put_object(Bucket=bucket, Key="in/p.jsonl", Body=b'"a fox"\n7\n')

    opened = open_batch({"batch": "nightly", "input": f"s3://{bucket}/in/p.jsonl"}, SECOND, settings, s3, quotas)

    [_, item] = _listed(s3, opened)
    assert (item.skip, item.name, item.error) == (
        False,
        "nightly-00002-2",
        "line 2: must be a request object or a prompt string",
    )
    assert opened.skipped == 0


# Filing an item's outcome.
@pytest.mark.parametrize(("field", "value"), [("id", "../x"), ("id", "a" * 33), ("run", "a/b"), ("run", "-a")])
def test_a_record_whose_id_or_run_could_not_name_a_folder_is_refused(field: str, value: str) -> None:
    # Both name folders: the item's record and run in S3, and its folder where the CLI fetches it.
    good = _earlier("00001", "FAILED", ["nightly-00001"]).model_dump()

    with pytest.raises(ValidationError, match=f"^1 validation error for ItemRecord\n{field}\n"):
        ItemRecord.model_validate({**good, field: value})


def test_an_executions_files_are_keyed_by_its_checked_name() -> None:
    keys = BatchKeys("nightly")

    assert (keys.manifest("first"), keys.summary("first")) == (
        "batches/nightly/runs/first/manifest.jsonl",
        "batches/nightly/runs/first/batch.json",
    )
    with pytest.raises(ValueError, match=r"^execution: must be 1-80 letters"):
        keys.manifest("../other")


def _manifest(s3: Any, bucket: str, run: str, winner: bool) -> str:
    def image(attempt: int, score: int, passed: bool) -> Entry:
        verdict = Verdict(passed=passed, score=score, reason="r", judged_by="judge")
        return Entry(
            revision=0,
            attempt=attempt,
            outcome="image",
            prompt=f"prompt {attempt}",
            negative_prompt="",
            model_id="m",
            seed=attempt,
            key=f"generated-images/{run}/r00-a0{attempt}.png",
            verdict=verdict,
        )

    refused = Entry(revision=0, attempt=1, outcome="refused", prompt="p", negative_prompt="", model_id="m", seed=0)
    entries = [refused.model_copy(update={"attempt": 1}), image(2, 6, False), image(3, 9 if winner else 4, winner)]
    manifest = Manifest(
        execution_id="arn",
        execution_name=run,
        started_at="now",
        request={"prompt": "p"},
        status="succeeded" if winner else "requirements_not_met",
        winner=Winner(revision=0, attempt=3, key=f"generated-images/{run}/r00-a03.png") if winner else None,
        entries=entries,
    )
    key = f"generated-images/{run}/manifest.json"
    s3.put_object(Bucket=bucket, Key=key, Body=manifest.model_dump_json().encode())
    return key


def _opened(s3: Any, settings: Settings, items: list[Any], execution: ExecutionRef = FIRST) -> OpenedBatch:
    return open_batch({"batch": "nightly", "items": items}, execution, settings, s3, quotas)


def _file(s3: Any, opened: OpenedBatch, index: int, outcome: dict[str, Any]) -> ItemRecord:
    item = _listed(s3, opened)[index]
    record_item(RecordItem(action="record_item", batch=opened.batch, item=item, outcome=ItemOutcome(**outcome)), s3)
    return ItemRecord.model_validate(_json(s3, opened.batch.bucket, opened.batch.keys.record(item.id)))


def test_an_item_that_succeeded_is_filed_with_its_winner_from_its_runs_manifest(
    s3: Any, settings: Settings, bucket: str
) -> None:
    opened = _opened(s3, settings, ["a fox"])
    key = _manifest(s3, bucket, "nightly-00001", winner=True)

    record = _file(s3, opened, 0, {"status": "SUCCEEDED", "cause": "accepted", "bucket": bucket, "manifest_key": key})

    assert record.model_dump(exclude={"finished_at"}) == {
        "index": 0,
        "line": 1,
        "id": "00001",
        "status": "SUCCEEDED",
        "skipped": False,
        "error": None,
        "cause": "accepted",
        "run": "nightly-00001",
        "runs": ["nightly-00001"],
        "execution": "first",
        "images": 2,  # the refusal is not an image
        "winner": f"s3://{bucket}/generated-images/nightly-00001/r00-a03.png",
        "best": None,
        "score": 9,
        "prompt": "prompt 3",
        "manifest": f"s3://{bucket}/{key}",
        "cost_usd": 0.0,  # the test's manifest records no costs
    }
    assert record.finished_at is not None


def test_an_item_that_met_no_requirement_points_at_its_best_image(s3: Any, settings: Settings, bucket: str) -> None:
    opened = _opened(s3, settings, ["a fox"])
    key = _manifest(s3, bucket, "nightly-00001", winner=False)
    outcome = {
        "status": "FAILED",
        "error": "RequirementsNotMet",
        "cause": "none",
        "bucket": bucket,
        "manifest_key": key,
    }

    record = _file(s3, opened, 0, outcome)

    assert (record.status, record.error, record.images, record.winner, record.score, record.prompt) == (
        "FAILED",
        "RequirementsNotMet",
        2,
        None,
        6,
        "prompt 2",
    )
    assert record.best == f"s3://{bucket}/generated-images/nightly-00001/r00-a02.png"


@pytest.mark.parametrize("manifest_key", [None, "generated-images/nightly-00001/manifest.json"])
def test_an_item_without_a_manifest_is_filed_with_no_images(
    s3: Any, settings: Settings, bucket: str, manifest_key: str | None
) -> None:
    opened = _opened(s3, settings, ["a fox"])
    where = {"bucket": bucket, "manifest_key": manifest_key} if manifest_key else {}

    record = _file(s3, opened, 0, {"status": "FAILED", "error": "InvalidInput", "cause": "prompt: empty"} | where)

    assert (record.error, record.cause, record.images, record.manifest, record.winner, record.best) == (
        "InvalidInput",
        "line 1: prompt: empty",
        0,
        None,
        None,
        None,
    )


def test_a_rerun_adds_the_items_new_run_to_its_record_once(s3: Any, settings: Settings, bucket: str) -> None:
    first = _opened(s3, settings, ["a fox"])
    _file(s3, first, 0, {"status": "FAILED", "error": "ModelThrottled", "cause": "slow down"})
    second = _opened(s3, settings, ["a fox"], SECOND)

    _file(s3, second, 0, {"status": "FAILED", "error": "ModelThrottled", "cause": "slow down"})
    record = _file(s3, second, 0, {"status": "SUCCEEDED", "cause": "accepted"})  # Save retried

    assert (record.run, record.runs, record.execution, record.status) == (
        "nightly-00001-2",
        ["nightly-00001", "nightly-00001-2"],
        "second",
        "SUCCEEDED",
    )


# Closing the batch.
def _manifest_lines(s3: Any, bucket: str, execution: str) -> list[ItemRecord]:
    body = s3.get_object(Bucket=bucket, Key=f"batches/nightly/runs/{execution}/manifest.jsonl")["Body"].read()
    return [ItemRecord.model_validate_json(line) for line in body.decode().splitlines()]


def test_close_writes_one_line_per_item_in_input_order_with_the_counts(
    s3: Any, settings: Settings, bucket: str
) -> None:
    opened = _opened(s3, settings, ["a fox", "an owl", {"prompt": "a", "id": "-"}, "a cat", "a hen"])
    won = _manifest(s3, bucket, "nightly-00001", winner=True)
    lost = _manifest(s3, bucket, "nightly-00004", winner=False)
    # Filed out of order, as parallel items end.
    _file(s3, opened, 3, {"status": "FAILED", "error": "RequirementsNotMet", "bucket": bucket, "manifest_key": lost})
    _file(s3, opened, 2, {"status": "FAILED", "error": "InvalidInput", "cause": "line 3: id '-' must be ..."})
    _file(s3, opened, 4, {"status": "FAILED", "error": "RequirementsNotMet"})
    _file(s3, opened, 0, {"status": "SUCCEEDED", "bucket": bucket, "manifest_key": won})
    _file(s3, opened, 1, {"status": "SUCCEEDED"})

    summary = close_batch(opened.batch, opened.plan, s3)

    records = _manifest_lines(s3, bucket, "first")
    assert [(r.index, r.line, r.id, r.status, r.error) for r in records] == [
        (0, 1, "00001", "SUCCEEDED", None),
        (1, 2, "00002", "SUCCEEDED", None),
        (2, 3, "00003", "FAILED", "InvalidInput"),
        (3, 4, "00004", "FAILED", "RequirementsNotMet"),
        (4, 5, "00005", "FAILED", "RequirementsNotMet"),
    ]
    assert summary.plan == opened.plan
    assert summary.model_dump(exclude={"message", "plan"}) == {
        "items": 5,
        "succeeded": 2,
        "failed": 3,
        "skipped": 0,
        "images": 4,
        "cost_usd": 0.0,
        "status": "SUCCEEDED",
        "batch": "nightly",
        "execution": "first",
        "bucket": bucket,
        "manifest_key": "batches/nightly/runs/first/manifest.jsonl",
        "summary_key": "batches/nightly/runs/first/batch.json",
        "errors": {"InvalidInput": 1, "RequirementsNotMet": 2},
    }
    assert summary.message == (
        "5 item(s): 2 succeeded, 3 failed; 4 image(s) made. Failed: InvalidInput x1, RequirementsNotMet x2."
    )
    assert _json(s3, bucket, "batches/nightly/runs/first/batch.json") == summary.model_dump(mode="json")


def test_an_item_whose_record_is_missing_or_stale_is_counted_not_recorded(
    s3: Any, settings: Settings, bucket: str
) -> None:
    first = _opened(s3, settings, ["a fox", "an owl", "a cat"])
    for index in range(3):
        _file(
            s3,
            first,
            index,
            {"status": "FAILED" if index else "SUCCEEDED", "error": "ModelThrottled" if index else None},
        )
    close_batch(first.batch, first.plan, s3)
    s3.delete_object(Bucket=bucket, Key="batches/nightly/items/00003.json")
    second = _opened(s3, settings, ["a fox", "an owl", "a cat"], SECOND)
    # Neither failed item gets a record from the second execution: 00002's is the first's, 00003's is gone.

    summary = close_batch(second.batch, second.plan, s3)

    done, stale, missing = _manifest_lines(s3, bucket, "second")
    assert (done.status, done.skipped, done.execution, done.runs) == ("SUCCEEDED", True, "first", ["nightly-00001"])
    assert (stale.status, stale.error, stale.execution, stale.run, stale.runs) == (
        "FAILED",
        "ItemNotRecorded",
        "second",
        "nightly-00002-2",
        ["nightly-00002", "nightly-00002-2"],
    )
    assert (missing.error, missing.runs) == ("ItemNotRecorded", ["nightly-00003"])
    assert (summary.succeeded, summary.failed, summary.skipped, summary.images) == (0, 2, 1, 0)
    assert summary.errors == {"ItemNotRecorded": 2}
    assert summary.message == (
        "3 item(s): 0 succeeded, 2 failed, 1 skipped (succeeded before); 0 image(s) made. Failed: ItemNotRecorded x2."
    )


def test_a_rerun_writes_its_own_manifest_and_counts_and_leaves_the_earlier_executions(
    s3: Any, settings: Settings, bucket: str
) -> None:
    first = _opened(s3, settings, ["a fox", "an owl"])
    _file(s3, first, 0, {"status": "SUCCEEDED"})
    _file(s3, first, 1, {"status": "FAILED", "error": "ModelThrottled"})
    earlier = close_batch(first.batch, first.plan, s3)
    second = _opened(s3, settings, ["a fox", "an owl"], SECOND)
    _file(s3, second, 1, {"status": "SUCCEEDED"})

    later = close_batch(second.batch, second.plan, s3)

    assert (later.manifest_key, later.summary_key) == (
        "batches/nightly/runs/second/manifest.jsonl",
        "batches/nightly/runs/second/batch.json",
    )
    assert [(r.id, r.status, r.skipped, r.execution) for r in _manifest_lines(s3, bucket, "second")] == [
        ("00001", "SUCCEEDED", True, "first"),
        ("00002", "SUCCEEDED", False, "second"),
    ]
    # The owl's record is the second execution's now; the first execution's manifest and counts still say
    # how the owl ended in the first.
    assert _json(s3, bucket, "batches/nightly/items/00002.json")["execution"] == "second"
    assert [(r.id, r.status, r.error, r.execution) for r in _manifest_lines(s3, bucket, "first")] == [
        ("00001", "SUCCEEDED", None, "first"),
        ("00002", "FAILED", "ModelThrottled", "first"),
    ]
    assert _json(s3, bucket, earlier.summary_key) == earlier.model_dump(mode="json")
    assert (earlier.succeeded, earlier.failed) == (1, 1)

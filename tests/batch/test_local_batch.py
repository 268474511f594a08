"""The batch workflow on the local runner: every item is accounted for in the batch manifest whatever
happens to it (an unreadable line, a refusal, a throttling storm, a budget used up), each item's run
folder is complete, a re-run skips what succeeded, and the concurrency asked for reaches the Map Run."""

import json
from typing import Any

from imgloop.local.runner import LocalRunner
from imgloop.local.standin.answers import HttpError
from imgloop.local.standin.service import Scenario
from imgloop.local.standin.triggers import Triggers
from tests.batch.helpers import (
    BUCKET,
    body,
    image_entries,
    images_in_folder,
    keys,
    manifest_lines,
    prompts_sent,
    run_batch,
    run_manifest,
)
from tests.faults.injector import LAMBDA_NOT_FOUND, Fault, function_is, inject, key_endswith

# One attempt more than the first, no revision: a rejected item ends after two images.
BUDGET = {"max_retry_attempts": 2, "max_prompt_revisions": 0}
REFUSED = "A forbidden garden, a fountain"
REJECTED = "An unjudgeable painting, a gilt frame"
THINGS = ["a fox", "an owl", "a hen", "a heron", "a lynx", "a stag", "a crow", "a hare", "a wren", "a boar"]
STORM = Triggers(refuse_words=("forbidden",), reject_words=("unjudgeable",), throttle_each=2)


def storm_input() -> list[str]:
    """20 items on 21 lines: two that cannot run, one refused, one never passing, 16 that succeed."""
    lines = [
        json.dumps({"prompt": "A red bicycle, a blue wall"}),
        json.dumps("A lighthouse on a cliff, stormy sea"),
        "{not json",
        "",
        json.dumps({"id": "refused", "prompt": REFUSED}),
        json.dumps({"id": "budget", "prompt": REJECTED}),
        json.dumps({"prompt": "A cat on a sofa", "candidates": 0}),
    ]
    lines += [
        json.dumps({"prompt": f"{thing.capitalize()} number {n}, a birch forest"}) for n, thing in enumerate(THINGS)
    ]
    lines += [json.dumps(f"{thing.capitalize()} at dusk, a meadow") for thing in THINGS[:4]]
    return lines


def test_a_stormy_batch_ends_with_every_item_accounted_for(runner: Any) -> None:
    run: LocalRunner = runner(triggers=STORM)

    batch = run_batch(run, "storm-1", {"batch": "storm", "defaults": BUDGET, "concurrency": 5}, storm_input())

    assert batch.execution.status == "SUCCEEDED"
    assert batch.execution.states_entered() == ["Read the batch", "Run the items", "Write the batch manifest"]
    records = manifest_lines("storm", "storm-1")
    ids = ["00001", "00002", "00003", "refused", "budget", "00007", *(f"{n:05d}" for n in range(8, 22))]
    assert [(r.index, r.line, r.id, r.run) for r in records] == [
        (index, line, id_, f"storm-{id_}")
        for index, (line, id_) in enumerate(zip([1, 2, 3, *range(5, 22)], ids, strict=True))
    ]
    failed = {r.id: (r.error, r.cause, r.images) for r in records if r.status == "FAILED"}
    assert failed.keys() == {"00003", "refused", "budget", "00007"}
    assert failed["00003"] == (
        "InvalidInput",
        "line 3: not JSON (Expecting property name enclosed in double quotes at column 2)",
        0,
    )
    assert failed["00007"] == ("InvalidInput", "line 7: candidates: Input should be greater than or equal to 1", 0)
    assert failed["refused"][0] == "RequirementsNotMet" and failed["refused"][2] == 0
    assert failed["budget"][0] == "RequirementsNotMet" and failed["budget"][2] == 2
    # No item was lost to the storm: the throttled calls were all retried, and every other item passed.
    assert all(r.status == "SUCCEEDED" and r.images == 1 and r.score == 9 for r in records if r.id not in failed)

    summary = batch.execution.output
    assert summary is not None
    assert {k: summary[k] for k in ("items", "succeeded", "failed", "skipped", "images", "errors")} == {
        "items": 20,
        "succeeded": 16,
        "failed": 4,
        "skipped": 0,
        "images": 18,
        "errors": {"InvalidInput": 2, "RequirementsNotMet": 2},
    }
    assert json.loads(body("batches/storm/runs/storm-1/batch.json")) == summary
    # The item records and the manifest's lines are the same.
    for record in records:
        assert json.loads(body(f"batches/storm/items/{record.id}.json")) == record.model_dump(mode="json")

    # Each run folder holds exactly the images its manifest lists; nothing stays in staging.
    for record in records:
        if record.manifest is None:
            assert record.id in {"00003", "00007"} and keys(f"generated-images/{record.run}/") == []
            continue
        manifest = run_manifest(record)
        assert images_in_folder(record.run) == image_entries(manifest)
        assert len(image_entries(manifest)) == record.images
        assert manifest["status"] == ("succeeded" if record.status == "SUCCEEDED" else "requirements_not_met")
        assert manifest["execution_name"] == record.run
        # Locally a child shares its parent's context object ($$.Execution); on AWS each item's run would
        # carry its own child execution's ARN here.
        assert manifest["execution_id"] == batch.execution.execution_arn
    assert keys("_staging/") == []
    refused = run_manifest(next(r for r in records if r.id == "refused"))
    assert [(e["outcome"], e["refusal"]) for e in refused["entries"]] == [
        ("refused", "model refused: Filter reason: prompt")
    ] * 2
    best = next(r for r in records if r.id == "budget")
    assert (best.winner, best.best, best.score) == (None, f"s3://{BUCKET}/generated-images/storm-budget/r00-a01.png", 4)

    # The storm: each of the 18 prompts' first two image calls, and each of the 17 judged requirements'
    # first two judge calls, were throttled and retried (waits recorded, not slept).
    assert len(run.retry_waits) == 2 * 18 + 2 * 17
    assert len(run.standin.calls_of("InvokeModel")) == 2 * 18 + 16 + 2 * 2
    assert len(run.standin.calls_of("Converse")) == 2 * 17 + 16 + 2

    assert (batch.map_run["maxConcurrency"], batch.map_run["toleratedFailureCount"]) == (5, 20)
    assert batch.map_run["itemCounts"]["succeeded"] == 20  # an item ends in its outcome, never in failure


def test_a_rerun_skips_what_succeeded_and_runs_what_failed_under_new_names(runner: Any) -> None:
    run: LocalRunner = runner(triggers=Triggers(reject_words=("unjudgeable",)))
    lines = [json.dumps("A fox, a birch forest"), json.dumps("An unjudgeable owl, a branch"), "{not json", '"A hen"']
    request = {"batch": "again", "defaults": BUDGET}
    first = run_batch(run, "again-1", request, lines)
    before = {id_: body(f"batches/again/items/{id_}.json") for id_ in ("00001", "00004")}
    folders = {run_name: images_in_folder(run_name) for run_name in ("again-00001", "again-00002", "again-00004")}
    calls = len(run.standin.calls)
    run.standin.scenario = Scenario()  # the judge now passes the owl

    second = run_batch(run, "again-2", request, lines)

    assert first.execution.output is not None and second.execution.output is not None
    assert (first.execution.output["succeeded"], first.execution.output["failed"]) == (2, 2)
    assert {k: second.execution.output[k] for k in ("items", "succeeded", "failed", "skipped", "images", "errors")} == {
        "items": 4,
        "succeeded": 1,
        "failed": 1,
        "skipped": 2,
        "images": 1,
        "errors": {"InvalidInput": 1},
    }
    records = {r.id: r for r in manifest_lines("again", "again-2")}
    assert [(r.id, r.status, r.skipped, r.execution, r.runs) for r in records.values()] == [
        ("00001", "SUCCEEDED", True, "again-1", ["again-00001"]),
        ("00002", "SUCCEEDED", False, "again-2", ["again-00002", "again-00002-2"]),
        ("00003", "FAILED", False, "again-2", ["again-00003", "again-00003-2"]),
        ("00004", "SUCCEEDED", True, "again-1", ["again-00004"]),
    ]
    # The skipped items' records are untouched and they made no new image; the owl ran once more.
    assert {id_: body(f"batches/again/items/{id_}.json") for id_ in before} == before
    assert {run_name: images_in_folder(run_name) for run_name in folders} == folders
    assert prompts_sent(run, since=calls) == {"An unjudgeable owl, a branch"}
    assert records["00002"].winner == f"s3://{BUCKET}/generated-images/again-00002-2/r00-a01.png"
    assert images_in_folder("again-00002-2") == ["generated-images/again-00002-2/r00-a01.png"]
    # Each execution keeps its own list, manifest and counts: the first's still say how its items ended.
    assert keys("batches/again/runs/") == [
        f"batches/again/runs/{execution}/{name}"
        for execution in ("again-1", "again-2")
        for name in ("batch.json", "items.json", "manifest.jsonl")
    ]
    assert [(r.id, r.status, r.skipped, r.execution, r.run) for r in manifest_lines("again", "again-1")] == [
        ("00001", "SUCCEEDED", False, "again-1", "again-00001"),
        ("00002", "FAILED", False, "again-1", "again-00002"),
        ("00003", "FAILED", False, "again-1", "again-00003"),
        ("00004", "SUCCEEDED", False, "again-1", "again-00004"),
    ]
    assert json.loads(body("batches/again/runs/again-1/batch.json")) == first.execution.output


def test_the_concurrency_comes_from_the_plan_or_the_stacks_setting_unless_the_batch_asks(runner: Any) -> None:
    run: LocalRunner = runner()
    request = {"batch": "setting", "items": ["A fox, a forest", "An owl, a branch"]}

    stack_default = run_batch(run, "setting-1", request)
    run.lambdas.overrides["BATCH_CONCURRENCY"] = "3"
    overridden = run_batch(run, "setting-2", request)
    asked = run_batch(run, "setting-3", {**request, "concurrency": 7})

    assert stack_default.execution.output is not None
    # The plan's: the quotas would allow 4 of these items at once, and the batch has 2.
    assert stack_default.map_run["maxConcurrency"] == stack_default.execution.output["plan"]["concurrency"] == 2
    assert overridden.map_run["maxConcurrency"] == 3
    assert asked.map_run["maxConcurrency"] == 7


def test_an_item_whose_outcome_could_not_be_filed_is_counted_not_recorded(runner: Any) -> None:
    run: LocalRunner = runner()
    # The first item's record_item fails for good (not a transient Lambda error: no retry).
    plan = inject(run, Fault("lambda.Invoke", LAMBDA_NOT_FOUND, when=function_is("save", "record_item")))
    request = {"batch": "lost", "items": ["A fox, a forest", "An owl, a branch"], "concurrency": 1}

    batch = run_batch(run, "lost-1", request)

    assert plan.fired == 1
    assert batch.execution.output is not None and batch.execution.output["errors"] == {"ItemNotRecorded": 1}
    lost, kept = manifest_lines("lost", "lost-1")
    assert (lost.status, lost.error, lost.run, lost.images) == ("FAILED", "ItemNotRecorded", "lost-00001", 0)
    assert (kept.status, kept.images) == ("SUCCEEDED", 1)
    # The item's run itself went well: its image is kept, only the batch's record of it is missing.
    assert images_in_folder("lost-00001") == ["generated-images/lost-00001/r00-a01.png"]
    assert keys("batches/lost/items/") == ["batches/lost/items/00002.json"]


def test_a_batch_that_cannot_be_read_fails_naming_the_field(runner: Any) -> None:
    run: LocalRunner = runner()

    batch = run_batch(run, "missing-1", {"batch": "missing", "input": f"s3://{BUCKET}/batches/missing/none.jsonl"})

    assert (batch.execution.status, batch.execution.error) == ("FAILED", "InvalidInput")
    assert batch.execution.cause == f"input: no object at s3://{BUCKET}/batches/missing/none.jsonl"
    assert batch.execution.states_entered() == ["Read the batch", "Explain the rejected batch", "Batch rejected"]
    assert keys("batches/missing/") == []


def test_a_batch_whose_manifest_cannot_be_written_fails_with_the_error_and_its_message(runner: Any) -> None:
    run: LocalRunner = runner()
    denied = HttpError(403, "AccessDenied", "Access Denied")
    plan = inject(run, Fault("s3.PutObject", denied, count=None, when=key_endswith("manifest.jsonl")))

    batch = run_batch(run, "denied-1", {"batch": "denied", "items": ["A fox, a forest"]})

    assert plan.fired == 1
    assert (batch.execution.status, batch.execution.error) == ("FAILED", "StorageError")
    # The function's error arrives as JSON with a stack trace; the execution says only its message.
    assert batch.execution.cause == "S3 PutObject: AccessDenied: Access Denied"
    assert batch.execution.states_entered()[-4:] == [
        "Is the batch's error a function's?",
        "Read the batch's error",
        "Is the batch's error Step Functions'?",
        "Batch failed",
    ]
    # The item ran and was filed: a re-run would skip it.
    [record] = [json.loads(body(key)) for key in keys("batches/denied/items/")]
    assert record["status"] == "SUCCEEDED"

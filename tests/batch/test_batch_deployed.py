"""`imgloop batch` and `imgloop batch-status` against a deployed stack: here the local account, found through
the stack's outputs, as a deployed one would be."""

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest

from imgloop.aws import arn_region
from imgloop.cli import main
from imgloop.runs.executions import follow, start
from tests.batch.pages import tiles
from tests.faults.injector import LAMBDA_NOT_FOUND, Fault, function_is, inject

ITEMS = b'{"prompt": "a red fox", "max_retry_attempts": 1}\n{not json\n"a paper boat"\n'
REGION = ["--region", "us-west-2"]


def _this_account(region: str | None, arn: str | None = None) -> Any:
    """The local account's session, which has the Bedrock stand-in and the local functions."""
    assert (region or arn_region(arn or "")) == "us-west-2"
    return boto3.DEFAULT_SESSION


@contextmanager
def _deployed(
    runner: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, *faults: Fault, batches: bool = True
) -> Iterator[tuple[Any, Any, str]]:
    """A local account with the stack's outputs: yields its runner, Step Functions client and loop machine."""
    local = runner()
    inject(local, *faults)
    with local.session() as (sfn, machine):
        outputs = {"StateMachineArn": machine, "BucketName": local.names.bucket}
        if batches:
            outputs["BatchStateMachineArn"] = local.batch_machine_arn
        monkeypatch.setattr("imgloop.aws.stack_outputs", lambda cloudformation, stack: outputs)
        monkeypatch.setattr("imgloop.cli.batches.aws_session", _this_account)
        yield local, sfn, machine


def test_a_batch_on_the_stack_a_rerun_and_their_status(
    runner: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_bytes(ITEMS)
    batch = ["batch", "--input", str(items), "--name", "remote", *REGION]
    with _deployed(runner, monkeypatch) as (local, sfn, _):
        first = main([*batch, "--concurrency", "2", "--json", "--out", str(tmp_path / "out")])
        printed = capsys.readouterr()
        arn = printed.err.strip()
        uploaded = boto3.client("s3").get_object(Bucket=local.names.bucket, Key="batches/remote/input.jsonl")
        started_with = json.loads(sfn.describe_execution(executionArn=arn)["input"])
        again = main([*batch, "--out", str(tmp_path / "out")])
        rerun = capsys.readouterr().out
        status = main(["batch-status", arn])
        looked = capsys.readouterr().out
        later = rerun.splitlines()[1]  # after the worst case
        fetched = main(["batch-status", later, "--out", str(tmp_path / "status"), "--json"])
        status_json = json.loads(capsys.readouterr().out)
        earlier = main(["batch-status", arn, "--out", str(tmp_path / "old"), "--json"])
        earlier_json = json.loads(capsys.readouterr().out)

    assert first == 1 and arn.endswith(":execution:ImageLoop-batches:remote")
    result = json.loads(printed.out)
    assert (result["status"], result["items"], result["succeeded"], result["failed"], result["images"]) == (
        "SUCCEEDED",
        3,
        2,
        1,
        2,
    )
    # The file went up unchanged, and the batch machine was started naming it.
    assert uploaded["Body"].read() == ITEMS
    assert started_with == {
        "batch": "remote",
        "input": f"s3://{local.names.bucket}/batches/remote/input.jsonl",
        "concurrency": 2,
    }

    # Step Functions never reuses a name: the re-run is <batch>-<UTC time>, and skips what succeeded.
    assert again == 1 and re.fullmatch(r"arn:.*:execution:ImageLoop-batches:remote-\d{8}T\d{6}Z", later)
    assert "batch remote: 3/3 done: 0 succeeded, 1 failed, 2 skipped; 0 running; 0 image(s) made" in rerun
    assert "3 item(s): 0 succeeded, 1 failed, 2 skipped (succeeded before); 0 image(s) made." in rerun

    # One look at the first execution: its own counts and plan (the concurrency it was asked for), nothing
    # fetched without --out.
    assert status == 1
    assert looked.splitlines()[:3] == [
        "batch remote, execution remote: SUCCEEDED",
        "3 item(s): 2 succeeded, 1 failed; 2 image(s) made. Failed: InvalidInput x1.",
        "plan: 2 item(s) at once, about 9.2 image request(s) a minute, 78 s for 2 item(s)",
    ]
    assert len(looked.splitlines()) == 4 and "binding quota: " in looked
    assert fetched == 1 and status_json["execution"] == later and status_json["skipped"] == 2
    folder = tmp_path / "status" / "remote"
    assert status_json["report"] == str(folder / "report.html")
    assert [(t.id, t.status) for t in tiles((folder / "report.html").read_text(encoding="utf-8"))] == [
        ("00002", "failed"),
        ("00001", "skipped"),
        ("00003", "skipped"),
    ]
    assert (folder / "items" / "00001" / "r00-a01.png").is_file()
    # The first execution, fetched after the re-run, is still its own: its manifest, counts and report.
    old = tmp_path / "old" / "remote"
    assert earlier == 1
    assert {k: earlier_json[k] for k in ("execution", "succeeded", "failed", "skipped", "manifest")} == {
        "execution": arn,
        "succeeded": 2,
        "failed": 1,
        "skipped": 0,
        "manifest": str(old / "manifest.jsonl"),
    }
    lines = [json.loads(line) for line in (old / "manifest.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(line["id"], line["status"], line["skipped"], line["execution"]) for line in lines] == [
        ("00001", "SUCCEEDED", False, "remote"),
        ("00002", "FAILED", False, "remote"),
        ("00003", "SUCCEEDED", False, "remote"),
    ]
    summary = json.loads((old / "batch.json").read_text(encoding="utf-8"))
    assert (summary["execution"], summary["manifest_key"]) == ("remote", "batches/remote/runs/remote/manifest.jsonl")
    assert [(t.id, t.status) for t in tiles((old / "report.html").read_text(encoding="utf-8"))] == [
        ("00002", "failed"),
        ("00001", "succeeded"),
        ("00003", "succeeded"),
    ]


def test_a_batch_that_fails_after_its_items_ran_reports_what_they_made(
    runner: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    items = tmp_path / "items.jsonl"
    items.write_bytes(ITEMS)
    no_manifest = Fault("lambda.Invoke", LAMBDA_NOT_FOUND, count=None, when=function_is("save", "close_batch"))
    with _deployed(runner, monkeypatch, no_manifest):
        code = main(["batch", "--input", str(items), "--name", "broken", *REGION, "--json", "--out", str(tmp_path)])
    result = json.loads(capsys.readouterr().out)

    assert code == 1
    assert (result["status"], result["error"]) == ("FAILED", "Lambda.ResourceNotFoundException")
    assert (result["items"], result["succeeded"], result["failed"], result["images"]) == (3, 2, 1, 2)
    assert result["manifest"] is None and result["report"] == str(tmp_path / "broken" / "report.html")
    page = (tmp_path / "broken" / "report.html").read_text(encoding="utf-8")
    assert [t.status for t in tiles(page)] == ["failed", "succeeded", "succeeded"]  # failed items first
    assert "<dt>Error</dt><dd>Lambda.ResourceNotFoundException</dd>" in page


def test_batch_status_of_a_single_run_and_a_stack_without_batches_are_refused(
    runner: Callable[..., Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    items = tmp_path / "items.txt"
    items.write_text("a lighthouse\n")
    with _deployed(runner, monkeypatch, batches=False) as (_, sfn, machine):
        run = start(sfn, machine, {"prompt": "a lighthouse", "max_retry_attempts": 1}, "single")
        follow(sfn, run, poll_seconds=0.05)
        assert main(["batch-status", run]) == 2
        assert capsys.readouterr().err == f"imgloop: {run} is not a batch execution: it has no 'Read the batch' state\n"
        assert main(["batch", "--input", str(items), *REGION]) == 2
        assert capsys.readouterr().err == (
            "imgloop: stack ImageLoop has no BatchStateMachineArn output: deploy this version of imgloop\n"
        )

"""Starting, following and fetching executions: the code `imgloop start/watch/fetch` and the local runner share."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

from imgloop.aws import stack_outputs
from imgloop.runs.executions import fetch, follow, start
from imgloop.runs.progress import describe_event
from tests.conftest import load_event


def test_an_idempotency_key_names_the_execution_and_a_retry_starts_nothing_new(runner: Any) -> None:
    event = {**load_event("small_budget.json"), "idempotency_key": "order-1234"}
    with runner().session(event) as (sfn, machine):
        first = start(sfn, machine, event)
        again = start(sfn, machine, event)
        follow(sfn, first, poll_seconds=0.05)
        executions = sfn.list_executions(stateMachineArn=machine)["executions"]

    assert first.endswith(":order-1234") and again == first
    assert [e["name"] for e in executions] == ["order-1234"]


def test_follow_reports_progress_and_fetch_downloads_the_run(runner: Any, tmp_path: Path) -> None:
    lines: list[str] = []
    with runner(reject_first=1).session() as (sfn, machine):
        arn = start(sfn, machine, load_event("small_budget.json"), "watched")
        execution = follow(sfn, arn, lambda e: lines.extend(filter(None, [describe_event(e)])), poll_seconds=0.05)
        files = fetch(boto3.client("s3"), execution, tmp_path)

    assert execution.status == "SUCCEEDED" and execution.output is not None
    assert any("Validate image     FAIL" in line for line in lines)
    assert any("Validate image     PASS" in line for line in lines)
    assert sorted(f.name for f in files) == ["execution.json", "manifest.json", "r00-a01.png", "r00-a02.png"]
    assert json.loads((tmp_path / "watched" / "execution.json").read_text())["status"] == "SUCCEEDED"


def test_stack_outputs_find_the_deployed_resources() -> None:
    cloudformation = boto3.client(
        "cloudformation", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s"
    )
    stub = Stubber(cloudformation)
    machine = "arn:aws:states:us-west-2:123456789012:stateMachine:X"
    stub.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "ImageLoop",
                    "CreationTime": datetime(2026, 11, 21, tzinfo=UTC),
                    "StackStatus": "CREATE_COMPLETE",
                    "Outputs": [{"OutputKey": "StateMachineArn", "OutputValue": machine}],
                }
            ]
        },
        {"StackName": "ImageLoop"},
    )
    with stub:
        assert stack_outputs(cloudformation, "ImageLoop") == {"StateMachineArn": machine}

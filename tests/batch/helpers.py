"""Running a batch locally and reading what it left in S3: the batch manifest, the item records, each
item's run folder and its manifest."""

import json
from dataclasses import dataclass, field
from typing import Any

import boto3

from common.batches import ItemRecord
from imgloop.local.assembly import LocalNames
from imgloop.local.runner import LocalRunner
from imgloop.runs.executions import Execution, follow

BUCKET = LocalNames().bucket


@dataclass
class BatchRun:
    """A finished batch execution and its Map Run as describe_map_run told it."""

    execution: Execution
    map_run: dict[str, Any] = field(default_factory=dict)


def run_batch(runner: LocalRunner, name: str, request: dict[str, Any], lines: list[str] | None = None) -> BatchRun:
    """Run the batch (its input, if any, written as batches/<batch>/input.jsonl) until it ends."""
    files = []
    if lines is not None:
        key = f"batches/{request['batch']}/input.jsonl"
        files.append((key, ("\n".join(lines) + "\n").encode()))
        request = {**request, "input": f"s3://{BUCKET}/{key}"}
    found: dict[str, Any] = {}

    def watch(sfn: Any, arn: str) -> Execution:
        execution = follow(sfn, arn, poll_seconds=0.05)
        # Map Runs live as long as the session, so they are described before it ends.
        for listed in sfn.list_map_runs(executionArn=arn)["mapRuns"]:
            found.update(sfn.describe_map_run(mapRunArn=listed["mapRunArn"]))
        return execution

    return BatchRun(runner.run_batch(request, name, files=files, watch=watch), found)


def s3() -> Any:
    return boto3.client("s3", region_name="us-west-2")


def body(key: str) -> bytes:
    return bytes(s3().get_object(Bucket=BUCKET, Key=key)["Body"].read())


def manifest_lines(batch: str, execution: str) -> list[ItemRecord]:
    """The manifest the batch's execution of that name wrote."""
    text = body(f"batches/{batch}/runs/{execution}/manifest.jsonl").decode()
    return [ItemRecord.model_validate_json(line) for line in text.splitlines()]


def keys(prefix: str) -> list[str]:
    pages = s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def run_manifest(record: ItemRecord) -> dict[str, Any]:
    assert record.manifest == f"s3://{BUCKET}/generated-images/{record.run}/manifest.json"
    return dict(json.loads(body(record.manifest.removeprefix(f"s3://{BUCKET}/"))))


def images_in_folder(run: str) -> list[str]:
    return sorted(k for k in keys(f"generated-images/{run}/") if not k.endswith("/manifest.json"))


def image_entries(manifest: dict[str, Any]) -> list[str]:
    return sorted(e["key"] for e in manifest["entries"] if e["outcome"] == "image")


def prompts_sent(runner: LocalRunner, since: int = 0) -> set[str]:
    """The prompts the image model was asked for, from the stand-in's calls[since:]."""
    return {c.body["prompt"] for c in runner.standin.calls[since:] if c.operation == "InvokeModel"}

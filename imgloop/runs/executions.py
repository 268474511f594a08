"""Start, follow and fetch executions: the same code for the deployed stack and the local runner."""

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common.names import EXECUTION_FILE, MANIFEST_FILE

OnEvent = Callable[[dict[str, Any]], None]
OnPoll = Callable[[list[dict[str, Any]]], None]


@dataclass
class Execution:
    name: str
    execution_arn: str
    status: str
    output: dict[str, Any] | None
    error: str | None
    cause: str | None
    history: list[dict[str, Any]]
    files: list[Path] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"status": self.status, "output": self.output, "error": self.error, "cause": self.cause}

    def states_entered(self) -> list[str]:
        return [e["stateEnteredEventDetails"]["name"] for e in self.history if e["type"].endswith("StateEntered")]


def new_name() -> str:
    return f"imgloop-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:6]}"


def execution_name(event: Any, name: str | None = None) -> str:
    """The name given, else the event's idempotency key (as the HTTP API names it), else a new one."""
    key = event.get("idempotency_key") if isinstance(event, dict) else None
    return name or (key if isinstance(key, str) and key else None) or new_name()


def start(sfn: Any, state_machine_arn: str, event: Any, name: str | None = None) -> str:
    """Start an execution, named as `execution_name` says."""
    started = sfn.start_execution(
        stateMachineArn=state_machine_arn,
        name=execution_name(event, name),
        input=json.dumps(event, ensure_ascii=False),
    )
    return str(started["executionArn"])


def history(sfn: Any, arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
        events.extend(page["events"])
    return events


def follow(
    sfn: Any, arn: str, on_event: OnEvent | None = None, poll_seconds: float = 2.0, on_poll: OnPoll | None = None
) -> Execution:
    """Follow the history until the execution ends, telling on_event about each new event, and on_poll the
    whole history after each look."""
    seen = 0
    while True:
        running = sfn.describe_execution(executionArn=arn)["status"] == "RUNNING"
        events = history(sfn, arn)
        for event in events[seen:]:
            if on_event:
                on_event(event)
        seen = len(events)
        if on_poll:
            on_poll(events)
        if not running:
            return described(sfn, arn, events)
        time.sleep(poll_seconds)


def described(sfn: Any, arn: str, events: list[dict[str, Any]]) -> Execution:
    found = sfn.describe_execution(executionArn=arn)
    return Execution(
        name=found.get("name") or arn.rsplit(":", 1)[-1],
        execution_arn=arn,
        status=found["status"],
        output=json.loads(found["output"]) if found.get("output") else None,
        error=found.get("error"),
        cause=found.get("cause"),
        history=events,
    )


def run_folder(events: list[dict[str, Any]]) -> tuple[str, str] | None:
    """Bucket and folder of the run, as its first state decided them (None if the input was rejected)."""
    for event in events:
        details = event.get("stateExitedEventDetails")
        if details and details.get("name") == "Check input":
            state = json.loads(details.get("output") or "{}")
            run = state.get("run") if isinstance(state, dict) else None
            if isinstance(run, dict) and run.get("bucket") and run.get("folder"):
                return str(run["bucket"]), str(run["folder"])
            return None
    return None


def run_target(out_dir: Path, name: str) -> Path:
    """The folder a run of this name is fetched into: out_dir/<name>."""
    target = out_dir / name
    if target.resolve().parent != out_dir.resolve():
        raise ValueError(f"execution name {name!r} would leave {out_dir}")
    return target


def fetch(s3: Any, execution: Execution, out_dir: Path, copied: dict[str, str] | None = None) -> list[Path]:
    """Copy the run's images and manifest into out_dir/<execution name>, with execution.json, and for
    an edit the source and mask it started from (source.<ext>, mask.<ext>); `copied` as copy_objects."""
    target = run_target(out_dir, execution.name)
    target.mkdir(parents=True, exist_ok=True)
    opened = run_folder(execution.history)
    files = copy_run(s3, *opened, target, copied) if opened is not None else []
    summary = target / EXECUTION_FILE
    summary.write_text(json.dumps(execution.summary(), indent=2, ensure_ascii=False))
    files.append(summary)
    return files


def copy_run(s3: Any, bucket: str, folder: str, target: Path, copied: dict[str, str] | None = None) -> list[Path]:
    """Copy a run's images and manifest from its S3 folder into target, and for an edit the source and
    mask it started from (source.<ext>, mask.<ext>); `copied` as copy_objects."""
    return copy_objects(s3, bucket, folder, target, copied) + _edited_images(s3, target)


def copy_objects(s3: Any, bucket: str, folder: str, target: Path, copied: dict[str, str] | None = None) -> list[Path]:
    """Copy the run's own files (its images and manifest) into target. `copied` maps each key copied
    before to its ETag: an object copied before and unchanged since is not read again (a run followed
    live is copied after every step, and only its manifest changes)."""
    copied = {} if copied is None else copied
    target.mkdir(parents=True, exist_ok=True)
    files = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=f"{folder}/"):
        for item in page.get("Contents", []):
            name = item["Key"][len(folder) + 1 :]
            if "/" in name or name.startswith("."):
                continue  # only the run's own files, and nothing that could leave the target folder
            path = target / name
            if copied.get(item["Key"]) != item["ETag"] or not path.is_file():
                path.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                copied[item["Key"]] = item["ETag"]
            files.append(path)
    return files


# The page of a run's images, in its folder (imgloop.runs.report); a batch's folder, and each item's, have one too.
REPORT_FILE = "report.html"
# What the edit started from, as the manifest's request names it, and the name its copy takes.
EDITED_IMAGES = {"source_image": "source", "mask_image": "mask"}
# The file extension of each image format `common.image_files.probe` tells apart.
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}


def _edited_images(s3: Any, target: Path) -> list[Path]:
    """The source and mask of an edit, copied beside its images. One that is gone (uploads expire) or
    unreadable is left out: the report then names it instead of showing it."""
    from botocore.exceptions import ClientError

    from common.image_files import probe

    manifest = target / MANIFEST_FILE
    if not manifest.is_file():
        return []
    request = json.loads(manifest.read_text(encoding="utf-8")).get("request") or {}
    files = []
    for request_field, name in EDITED_IMAGES.items():
        image = request.get(request_field)
        if not isinstance(image, dict):
            continue
        try:
            data = s3.get_object(Bucket=image["bucket"], Key=image["key"])["Body"].read()
        except ClientError:
            continue
        found = probe(data)
        if found is None:
            continue
        path = target / f"{name}.{EXTENSIONS[found.format]}"
        path.write_bytes(data)
        files.append(path)
    return files

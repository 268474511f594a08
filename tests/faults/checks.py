"""What every faulted run must satisfy, whatever the fault: checked from the history, S3 and the manifest."""

import json
import re
from dataclasses import dataclass, field
from typing import Any

from imgloop.local.runner import LocalRunner, RunResult, run_folder
from tests.conftest import load_event
from tests.faults.injector import Fault, FaultPlan
from tests.statemachine.helpers import attempts as attempts_begun

BUCKET = "imgloop-local-images"
PREFIX = "generated-images"
UNNAMED = {"", "States.Runtime", "States.TaskFailed", "States.ALL", "Exception"}
MAX_CAUSE = 2000
SDK_MAX_BACKOFF = 20  # botocore's standard retry mode never waits longer
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

SMALL = load_event("small_budget.json")  # 2 attempts per prompt, 1 revision, 1 candidate


@dataclass(frozen=True)
class Case:
    id: str  # also the execution's name
    fault: str
    where: str
    expected: str
    status: str = "SUCCEEDED"
    error: str | None = None
    faults: tuple[Fault, ...] = ()  # templates: each run gets fresh copies with their own counters
    scenario: dict[str, Any] = field(default_factory=dict)  # the Bedrock stand-in's Scenario
    event: dict[str, Any] = field(default_factory=lambda: dict(SMALL))
    cause_mentions: str = ""  # a failed run's cause must say this
    retries: tuple[int, int] | None = None  # (state machine, SDK) retries expected
    may_lose: int = 0  # images S3 itself refused to store: nothing could have kept them
    record_writable: bool = True  # False: S3 refuses every manifest write, so no image can be recorded


@dataclass
class Checked:
    problems: list[str] = field(default_factory=list)
    kept: int = 0  # images in the run's folder
    waits: list[tuple[float, float]] = field(default_factory=list)  # (wait, bound) of each state machine retry


def check(case: Case, run: LocalRunner, plan: FaultPlan, result: RunResult, s3: Any) -> Checked:
    checked = Checked()
    problems = checked.problems
    expected = f"{case.status} {case.error or ''}".strip()
    got = f"{result.status} {result.error or ''}".strip()
    if got != expected:
        problems.append(f"expected {expected}, got {got}: {describe_cause(result.cause or '')}")
    problems += _check_ending(case, result)

    opened = run_folder(result.history)
    bucket, folder = opened or (BUCKET, f"{PREFIX}/{result.name}")
    stored = _keys(s3, bucket, f"{folder}/")
    staged = _keys(s3, bucket, f"_staging/{folder}/")
    images = {k for k in stored if not k.endswith("/manifest.json")}
    checked.kept = len(images)
    if staged:
        problems.append(f"left in staging: {sorted(staged)}")
    lost = plan.images_answered - len(images | staged)
    if lost > case.may_lose:
        problems.append(f"{lost} of the {plan.images_answered} image(s) the model made are not in S3")

    record = _manifest(s3, bucket, folder)
    if record is None:
        if opened:
            problems.append("the run opened but left no manifest")
        if images:
            problems.append(f"images without a manifest: {sorted(images)}")
    else:
        problems += _check_manifest(case, result, record, images)
    problems += _check_retries(case, run, plan, result, checked.waits)
    return checked


def _check_ending(case: Case, result: RunResult) -> list[str]:
    if result.status == "SUCCEEDED":
        return []
    if result.status != "FAILED":
        return [f"status {result.status}"]
    problems = []
    cause = result.cause or ""
    if (result.error or "") in UNNAMED:
        problems.append(f"unnamed error {result.error!r}")
    if not cause.strip():
        problems.append("no cause")
    if "stackTrace" in cause or "Traceback" in cause:
        problems.append("the cause carries a stack trace")
    if len(cause) >= MAX_CAUSE:
        problems.append(f"the cause is over {MAX_CAUSE:,} characters long")
    if case.cause_mentions and case.cause_mentions not in cause:
        problems.append(f"the cause does not say {case.cause_mentions!r}: {describe_cause(cause)}")
    return problems


def _check_manifest(case: Case, result: RunResult, record: dict[str, Any], images: set[str]) -> list[str]:
    problems = []
    entries = record["entries"]
    positions = [(e["revision"], e["attempt"], e["candidate"]) for e in entries]
    twice = sorted({p for p in positions if positions.count(p) > 1})
    if twice:
        problems.append(f"(revision, attempt, candidate) recorded twice: {twice}")
    recorded = {e["key"] for e in entries if e["outcome"] == "image"}
    if images - recorded and case.record_writable:
        problems.append(f"in S3 but not in the manifest: {sorted(images - recorded)}")
    if recorded - images:
        problems.append(f"in the manifest but not in S3: {sorted(recorded - images)}")
    said = (result.output or {}).get("images_generated")
    if result.status == "SUCCEEDED" and said != len(recorded):
        problems.append(f"the output counts {said} image(s), the manifest {len(recorded)}")

    counted = attempts_begun(result)
    if len(set(counted)) != len(counted):
        problems.append(f"an attempt counted twice: {counted}")
    attempts = {(r, a) for r, a, _ in positions}
    if attempts - set(counted):
        problems.append(f"attempts in the manifest that were never counted: {sorted(attempts - set(counted))}")
    # A run that failed mid-attempt may have counted an attempt that recorded nothing; no other may be missing.
    unrecorded = [c for c in counted if c not in attempts]
    interrupted = result.status == "FAILED" and result.error != "RequirementsNotMet"
    if unrecorded and not (interrupted and unrecorded == counted[-1:]):
        problems.append(f"attempts counted but not in the manifest: {unrecorded}")

    if not case.record_writable:
        return problems
    status = {"SUCCEEDED": "succeeded", "RequirementsNotMet": "requirements_not_met"}
    expected = status.get(result.status) or status.get(result.error or "") or "failed"
    if record["status"] != expected:
        problems.append(f"manifest status {record['status']!r}, expected {expected!r}")
    if expected == "failed" and (record.get("failure") or {}).get("error") != result.error:
        problems.append(f"the manifest's failure does not name {result.error!r}")
    return problems


def _check_retries(
    case: Case, run: LocalRunner, plan: FaultPlan, result: RunResult, waits: list[tuple[float, float]]
) -> list[str]:
    problems = []
    bounds = retry_bounds(run.workflow.definition, result.history)
    if len(bounds) != len(run.retry_waits):
        problems.append(f"{len(bounds)} retried task failures but {len(run.retry_waits)} retry waits")
    elif int(case.event.get("candidates", 1)) == 1:
        # One branch at a time: the waits come in the order of the failures they follow.
        waits.extend(zip(run.retry_waits, bounds, strict=True))
        late = [(w, b) for w, b in waits if not 0 <= w <= b]
        if late:
            problems.append(f"{len(late)} retry wait(s) beyond their exponential bound")
    elif run.retry_waits and not 0 <= min(run.retry_waits) <= max(run.retry_waits) <= max(bounds):
        problems.append("a retry wait beyond every bound")
    if any(not 0 <= w <= SDK_MAX_BACKOFF for w in plan.sdk_waits):
        problems.append(f"SDK backoff beyond {SDK_MAX_BACKOFF} s")
    seen = (len(run.retry_waits), len(plan.sdk_waits))
    if case.retries is not None and seen != case.retries:
        problems.append(f"retries (state machine, SDK) {seen}, expected {case.retries}")
    return problems


def retry_bounds(definition: dict[str, Any], history: list[dict[str, Any]]) -> list[float]:
    """The upper bound of each retry's wait, in history order: the retrier's interval x rate^n, capped.

    n counts the earlier retries by the same retrier since the task state was entered."""
    by_id = {e["id"]: e for e in history}
    retried = {e["previousEventId"] for e in history if e["type"] == "TaskScheduled"}
    bounds = []
    for event in history:
        if event["type"] != "TaskFailed" or event["id"] not in retried:
            continue
        earlier: list[str] = []
        current = by_id.get(event["previousEventId"])
        while current is not None and current["type"] != "TaskStateEntered":
            if current["type"] == "TaskFailed" and current["id"] in retried:
                earlier.append(current["taskFailedEventDetails"]["error"])
            current = by_id.get(current["previousEventId"])
        assert current is not None, f"no state entered before event {event['id']}"
        state = _state(definition, current["stateEnteredEventDetails"]["name"])
        index = _retrier(state, event["taskFailedEventDetails"]["error"])
        retrier = state["Retry"][index]
        n = sum(1 for error in earlier if _retrier(state, error) == index)
        bound = retrier["IntervalSeconds"] * retrier.get("BackoffRate", 2.0) ** n
        bounds.append(float(min(bound, retrier.get("MaxDelaySeconds", bound))))
    return bounds


def _state(definition: dict[str, Any], name: str) -> dict[str, Any]:
    found = _find_state(definition, name)
    if found is None:
        raise KeyError(name)
    return found


def _find_state(definition: dict[str, Any], name: str) -> dict[str, Any] | None:
    for state_name, state in definition.get("States", {}).items():
        if state_name == name:
            return dict(state)
        for nested in (state.get("ItemProcessor"), state.get("Iterator"), *state.get("Branches", [])):
            found = _find_state(nested, name) if nested else None
            if found is not None:
                return found
    return None


def _retrier(state: dict[str, Any], error: str) -> int:
    for index, retrier in enumerate(state.get("Retry", [])):
        if error in retrier["ErrorEquals"] or "States.ALL" in retrier["ErrorEquals"]:
            return index
    raise KeyError(f"no retrier for {error}")


def _keys(s3: Any, bucket: str, prefix: str) -> set[str]:
    found: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        found.update(o["Key"] for o in page.get("Contents", []))
    return found


def _manifest(s3: Any, bucket: str, folder: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads(s3.get_object(Bucket=bucket, Key=f"{folder}/manifest.json")["Body"].read()))
    except s3.exceptions.NoSuchKey:
        return None


def describe_cause(cause: str) -> str:
    """A short account of a cause that reads the same on every run (request ids are masked)."""
    cause = _UUID.sub("<id>", cause)
    try:
        parsed = json.loads(cause)
    except ValueError:
        return excerpt(cause)
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        trace = " with its stack trace" if "stackTrace" in parsed else ""
        return excerpt(f"the raw Lambda error{trace}: {parsed['errorMessage']}", 160)
    return excerpt(cause)


def excerpt(text: str, limit: int = 110) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."

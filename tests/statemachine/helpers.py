"""Reading a local run: states visited, loop counters, the manifest it left in S3."""

import json
from typing import Any

from common.results import CandidateResult
from imgloop.local.runner import RunResult, run_folder


def exits(result: RunResult, state: str) -> list[dict[str, Any]]:
    """The state's output each time the execution left it, in order."""
    return [
        json.loads(e["stateExitedEventDetails"]["output"])
        for e in result.history
        if e.get("stateExitedEventDetails", {}).get("name") == state
    ]


def verdicts(result: RunResult) -> list[dict[str, Any]]:
    """Validate's answers (each candidate's result), in order, as its task's history events keep them: the
    state keeps only [attempt, passed] of each for the tally."""
    answers = [
        json.loads(e["taskSucceededEventDetails"]["output"]).get("Payload")
        for e in result.history
        if "taskSucceededEventDetails" in e
    ]
    return [a for a in answers if isinstance(a, dict) and a.keys() >= CandidateResult.model_fields.keys()]


def attempts(result: RunResult) -> list[tuple[int, int]]:
    """(revision, attempt) of each attempt begun: the candidates Map counts it from the tally it enters with."""
    entered = [
        json.loads(e["stateEnteredEventDetails"]["input"])["loop"]
        for e in result.history
        if e.get("stateEnteredEventDetails", {}).get("name") == "Make candidates"
    ]
    return [(loop["revision"], loop["tally"]["attempt"] + 1) for loop in entered]


def counters(result: RunResult, state: str) -> list[tuple[int, int]]:
    # Validate answers with its candidate's own position; the other states carry the loop.
    positions = [o.get("loop", o) for o in exits(result, state)]
    return [(p["revision"], p["attempt"]) for p in positions]


def manifest(s3: Any, result: RunResult) -> dict[str, Any]:
    opened = run_folder(result.history)
    assert opened is not None
    bucket, folder = opened
    return dict(json.loads(s3.get_object(Bucket=bucket, Key=f"{folder}/manifest.json")["Body"].read()))


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def failures(result: RunResult) -> list[str]:
    """The errors of failed task attempts, retried or not, in order."""
    return [e["taskFailedEventDetails"]["error"] for e in result.history if e["type"] == "TaskFailed"]

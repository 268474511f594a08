"""Turn execution history events into one readable line per state: what happened, where in the loop.

The printer reads what the states happen to output, and those shapes change with the workflow (a
rejected input, a caught error, a newer payload), so every field is optional here: a state whose
output lacks what its line needs gets a shorter line or none, never an exception.
"""

import json
from typing import Any

from common.results import CandidateResult

_FAILURE_DETAILS = ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails", "executionFailedEventDetails")
_BLANK = " " * 9
# Validate's answer, as its task's history event keeps it (the state keeps only [attempt, passed] of it).
_VERDICT = frozenset(CandidateResult.model_fields)
# Texts from the run (a model's refusal, an error message) must not break the line or drive the terminal.
_CONTROLS = dict.fromkeys([*range(0x20), *range(0x7F, 0xA0), 0x2028, 0x2029], " ")


def _field(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]..., or None where the path leaves the JSON objects."""
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _text(value: Any, default: str = "?") -> str:
    return default if value is None else str(value)


def _number(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _where(state: dict[str, Any]) -> str:
    # Inside an attempt the state has the loop with its attempt; Validate's answer names its own
    # position; between attempts the loop's tally says how many were made.
    loop = state.get("loop", state if "attempt" in state else None)
    if not isinstance(loop, dict):
        return _BLANK
    attempt = loop.get("attempt", _field(loop, "tally", "attempt"))
    revision, attempt = _number(loop.get("revision")) or 0, _number(attempt) or 0
    candidates = loop.get("candidates")
    many = (len(candidates) if isinstance(candidates, list) else _number(candidates) or 1) > 1
    candidate = f" c{_text(state['candidate'])}" if many and "candidate" in state else ""
    return f"[r{revision:02d} a{attempt:02d}{candidate}]"


def _shorten(text: str, limit: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _accepted(state: dict[str, Any]) -> str:
    if "Error" in state:
        # The Catch put the error where the request would be: the failure lines that follow explain it.
        return f"input rejected: {_text(state['Error'])}"
    attempts = _text(_field(state, "request", "max_retry_attempts"))
    revisions = _text(_field(state, "request", "max_prompt_revisions"))
    line = f"input accepted: up to {attempts} image(s) per prompt, {revisions} revision(s)"
    bucket, folder = _field(state, "run", "bucket"), _field(state, "run", "folder")
    line += f"; images -> s3://{bucket}/{folder}/" if bucket and folder else ""
    substitutions = state.get("substitutions")
    if isinstance(substitutions, list):
        # A retired model replaced by its successor is said where the run starts.
        line += "".join(f"; {_shorten(_text(s), 240)}" for s in substitutions)
    return line


def _generated(state: dict[str, Any]) -> str | None:
    generation = state.get("generation")
    if not isinstance(generation, dict):
        return None
    if generation.get("outcome") == "image":
        return f"image made (seed {_text(generation.get('seed'))})"
    return f"no image: {_shorten(_text(generation.get('refusal'), 'no reason given'))}"


def _saved(state: dict[str, Any]) -> str:
    key = _field(state, "record", "key")
    return f"saved {key}" if key else "refusal recorded"


def _judged(details: dict[str, Any]) -> str | None:
    """Validate's line, from its task's answer: the candidate's result names its own position. A refusal
    it answers without judging was already said at Generate."""
    try:
        answer = json.loads(details.get("output") or "{}")
    except (TypeError, ValueError):
        return None
    result = _field(answer, "Payload")
    if not isinstance(result, dict) or not result.keys() >= _VERDICT or result.get("key") is None:
        return None
    word = "PASS" if result.get("passed") is True else "FAIL"
    text = f"{word} score {_text(result.get('score'))}/10: {_shorten(_text(result.get('reason'), ''))}"
    return f"{_where(result)} {'Validate image':<18} {text}"


def _proposed(state: dict[str, Any]) -> str | None:
    prompt = _field(state, "proposal", "prompt")
    return f"new prompt: {_shorten(str(prompt), 90)}" if prompt is not None else None


def _attempt_begins(state: dict[str, Any]) -> str | None:
    prompt = _field(state, "loop", "prompt")
    return f"prompt: {_shorten(str(prompt), 90)}" if prompt is not None else None


_DESCRIBERS = {
    "Check input": _accepted,
    "Generate image": _generated,
    "Save image": _saved,
    "Revise prompt": _proposed,
    "Translate prompt": _proposed,
}


def _attempt_entered(details: dict[str, Any]) -> str | None:
    """The line that opens an attempt, as the candidates Map is entered: its number is one more than
    the tally's count of attempts made at this prompt."""
    if details.get("name") != "Make candidates":
        return None
    try:
        state = json.loads(details.get("input") or "{}")
    except (TypeError, ValueError):
        return None
    loop = state.get("loop") if isinstance(state, dict) else None
    made = _number(_field(loop, "tally", "attempt"))
    if not isinstance(loop, dict) or made is None:
        return None
    text = _attempt_begins(state)
    return f"{_where({'loop': {**loop, 'attempt': made + 1}})} {'Make candidates':<18} {text}" if text else None


def _exited(details: dict[str, Any]) -> str | None:
    name = details.get("name")
    describer = _DESCRIBERS.get(name) if isinstance(name, str) else None
    if describer is None:
        return None
    try:
        state = json.loads(details.get("output") or "{}")
    except (TypeError, ValueError):
        return None
    if not isinstance(state, dict):
        return None
    text = describer(state)
    return f"{_where(state)} {name:<18} {text}" if text else None


def _failed(kind: Any, failure: dict[str, Any]) -> str:
    cause = failure.get("cause")
    try:
        message = _field(json.loads(cause), "errorMessage") if isinstance(cause, str) else None
    except ValueError:
        message = None
    label = "run failed" if kind == "ExecutionFailed" else "task failed"
    return f"{_BLANK} {label}: {_text(failure.get('error'))}: {_shorten(_text(message or cause, ''))}"


def describe_event(event: dict[str, Any]) -> str | None:
    """A progress line for the events a person wants to see; None for the rest."""
    line = _line(event)
    return line.translate(_CONTROLS) if line else None


def _line(event: dict[str, Any]) -> str | None:
    if not isinstance(event, dict):
        return None
    details = event.get("stateExitedEventDetails")
    if isinstance(details, dict):
        return _exited(details)
    entered = event.get("stateEnteredEventDetails")
    if isinstance(entered, dict):
        return _attempt_entered(entered)
    answered = event.get("taskSucceededEventDetails")
    if isinstance(answered, dict):
        return _judged(answered)
    kind = event.get("type")
    for key in _FAILURE_DETAILS:
        failure = event.get(key)
        if isinstance(failure, dict) and failure:
            return _failed(kind, failure)
    if kind == "ExecutionSucceeded":
        return f"{_BLANK} run succeeded"
    return None

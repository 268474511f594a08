"""Turn execution history events into one readable line per state: what happened, where in the loop."""

import contextlib
import json
from typing import Any

_FAILURE_DETAILS = ("taskFailedEventDetails", "lambdaFunctionFailedEventDetails", "executionFailedEventDetails")


def _where(state: dict[str, Any]) -> str:
    # Inside an attempt the state has the loop; Validate's answer names its own position.
    loop = state.get("loop", state if "attempt" in state else None) if isinstance(state, dict) else None
    if not isinstance(loop, dict):
        return "         "
    many = len(loop.get("candidates") or []) > 1 and "candidate" in state
    candidate = f" c{state['candidate']}" if many else ""
    return f"[r{loop.get('revision', 0):02d} a{loop.get('attempt', 0):02d}{candidate}]"


def _shorten(text: str, limit: int = 110) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(name: str, state: dict[str, Any]) -> str | None:
    if name == "Check input":
        request = state["request"]
        return (
            f"input accepted: up to {request['max_retry_attempts']} image(s) per prompt, "
            f"{request['max_prompt_revisions']} revision(s); images -> s3://{state['run']['bucket']}/{state['run']['folder']}/"
        )
    if name == "Count the attempt":
        return f"prompt: {_shorten(state['loop']['prompt'], 90)}"
    if name == "Generate image":
        generation = state["generation"]
        if generation["outcome"] == "image":
            return f"image made (seed {generation['seed']})"
        return f"no image: {_shorten(generation['refusal'] or '')}"
    if name == "Save image" and state.get("record", {}).get("key"):
        return f"saved {state['record']['key']}"
    if name == "Save image":
        return "refusal recorded"
    if name == "Validate image":
        verdict = state
        word = "PASS" if verdict["passed"] else "FAIL"
        return f"{word} score {verdict['score']}/10: {_shorten(verdict['reason'])}"
    if name in ("Revise prompt", "Translate prompt"):
        proposal = state["proposal"]
        return f"new prompt: {_shorten(proposal['prompt'], 90)}"
    return None


def describe_event(event: dict[str, Any]) -> str | None:
    """A progress line for the events a person wants to see; None for the rest."""
    kind = event["type"]
    details = event.get("stateExitedEventDetails")
    if details:
        state = json.loads(details.get("output") or "{}")
        text = _describe(details["name"], state) if isinstance(state, dict) else None
        if text is None:
            return None
        return f"{_where(state)} {details['name']:<18} {text}"
    for key in _FAILURE_DETAILS:
        failure = event.get(key)
        if failure:
            cause = failure.get("cause") or ""
            with contextlib.suppress(ValueError, AttributeError):
                cause = json.loads(cause).get("errorMessage", cause)
            label = "run failed" if kind == "ExecutionFailed" else "task failed"
            return f"          {label}: {failure.get('error')}: {_shorten(cause)}"
    if kind == "ExecutionSucceeded":
        return "          run succeeded"
    return None

"""The progress printer never raises, whatever a history event holds: state outputs change shape with
the workflow (a rejected input puts an error where the request was), and a printer that crashes takes
the whole `imgloop run` down with it."""

import json
import unicodedata
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from imgloop.runs.progress import describe_event

STATES = ["Check input", "Make candidates", "Generate image", "Save image", "Validate image", "Revise prompt"]
FIELDS = [
    "loop", "tally", "revision", "attempt", "candidates", "candidate", "prompt", "request", "max_retry_attempts",
    "max_prompt_revisions", "run", "bucket", "folder", "generation", "outcome", "seed", "refusal", "record",
    "key", "verdict", "passed", "score", "reason", "proposal", "Error", "Cause", "errorMessage",
]  # fmt: skip
KINDS = ["TaskStateExited", "TaskFailed", "LambdaFunctionFailed", "ExecutionFailed", "ExecutionSucceeded", "Other"]
DETAILS = [
    "stateExitedEventDetails", "stateEnteredEventDetails", "taskFailedEventDetails", "lambdaFunctionFailedEventDetails",
]  # fmt: skip

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
# Line breaks and escape sequences, as a model's refusal or an error message may carry them.
scalars |= st.sampled_from(["line\none", "a\r\nb", "\x1b[2J", "tab\there", "\u2028", "\x85"])
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=5), inner, max_size=4)
    ),
    max_leaves=12,
)
texts = st.one_of(values.map(json.dumps), st.text(max_size=30), values)
details = st.fixed_dictionaries(
    {},
    optional={
        "name": st.sampled_from(STATES) | values,
        "output": texts,
        "input": texts,
        "error": values,
        "cause": texts,
    },
)
events = st.fixed_dictionaries(
    {"type": st.sampled_from(KINDS) | values},
    optional={key: details | values for key in [*DETAILS, "executionFailedEventDetails"]},
)


@given(events | values)
def test_any_event_gives_a_line_or_nothing(event: Any) -> None:
    line = describe_event(event)

    assert line is None or _one_plain_line(line)


@given(st.sampled_from(STATES), st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
def test_any_state_output_gives_a_line_or_nothing(name: str, state: dict[str, Any]) -> None:
    event = {"type": "TaskStateExited", "stateExitedEventDetails": {"name": name, "output": json.dumps(state)}}

    line = describe_event(event)

    assert line is None or (name in line and _one_plain_line(line))


@given(st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))
def test_any_state_entering_an_attempt_gives_a_line_or_nothing(state: dict[str, Any]) -> None:
    event = {
        "type": "MapStateEntered",
        "stateEnteredEventDetails": {"name": "Make candidates", "input": json.dumps(state)},
    }

    line = describe_event(event)

    assert line is None or ("Make candidates" in line and _one_plain_line(line))


def test_an_attempt_is_announced_with_its_number_and_prompt() -> None:
    state = {"loop": {"revision": 1, "prompt": "a fox", "candidates": [1], "tally": {"attempt": 2}}}
    event = {
        "type": "MapStateEntered",
        "stateEnteredEventDetails": {"name": "Make candidates", "input": json.dumps(state)},
    }

    assert describe_event(event) == "[r01 a03] Make candidates    prompt: a fox"


def _one_plain_line(line: str) -> bool:
    return not any(unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in line)


def test_a_rejected_input_is_named_at_check_input() -> None:
    caught = {"Error": "InvalidInput", "Cause": json.dumps({"errorMessage": "prompt: Field required"})}
    exited = {
        "type": "TaskStateExited",
        "stateExitedEventDetails": {"name": "Check input", "output": json.dumps(caught)},
    }

    assert describe_event(exited) == "          Check input        input rejected: InvalidInput"

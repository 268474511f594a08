"""Fault injection on the local runner: every fault either recovers or fails with a named error and a short
cause, and no image or attempt is lost or counted twice. The suite writes the matrix to docs/reliability.md.

Each case runs the state machine once (about a second); the last test writes the matrix once all cases ran."""

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from imgloop.faults import (
    Body,
    Crash,
    Fault,
    FaultPlan,
    Hang,
    HttpError,
    Reply,
    key_endswith,
    key_under,
    model_is,
    tool_is,
)
from imgloop.local import LocalRunner
from tests.faults.checks import SMALL, Case, check
from tests.faults.matrix import Row, render, row

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
# The matrix as committed, read before this session writes a new one.
COMMITTED = DOC.read_text() if DOC.exists() else None
SD35 = "stability.sd3-5-large-v1:0"

ROWS: dict[str, Row] = {}
WAITS: list[tuple[float, float]] = []  # (wait, bound) of every state machine retry seen in the session

THROTTLE = HttpError(429, "ThrottlingException", "Too many requests, please wait before trying again.")
S3_INTERNAL = HttpError(500, "InternalError", "We encountered an internal error. Please try again.")
S3_SLOW_DOWN = HttpError(503, "SlowDown", "Please reduce your request rate.")
STAGING = key_under("_staging/")
MANIFEST = key_endswith("/manifest.json")
EMPTY_MESSAGE = {"output": {"message": {"role": "assistant", "content": []}}, "stopReason": "end_turn"}

CASES = [
    Case(
        "bedrock-throttling-storm",
        "Throttling storm: 5 x HTTP 429 ThrottlingException",
        "Bedrock InvokeModel",
        "retried as ModelThrottled (5 s base, x2, full jitter); recovers",
        faults=(Fault("bedrock-runtime.InvokeModel", THROTTLE, count=5, when=model_is(SD35)),),
        retries=(5, 0),
    ),
    Case(
        "bedrock-throttling-outlasts-retries",
        "Throttling that never ends: HTTP 429 on every call",
        "Bedrock InvokeModel",
        "8 retries as ModelThrottled, then the run fails with ModelThrottled",
        status="FAILED",
        error="ModelThrottled",
        faults=(Fault("bedrock-runtime.InvokeModel", THROTTLE, count=None),),
        cause_mentions=f"{SD35}: ThrottlingException",
        retries=(8, 0),
    ),
    Case(
        "bedrock-throttling-parallel",
        "Throttling storm over 3 parallel candidates: 4 x HTTP 429",
        "Bedrock InvokeModel",
        "each candidate retries on its own; recovers with all 3 images",
        event={**SMALL, "candidates": 3},
        faults=(Fault("bedrock-runtime.InvokeModel", THROTTLE, count=4),),
        retries=(4, 0),
    ),
    Case(
        "converse-throttling",
        "Throttling storm: 3 x HTTP 429 ThrottlingException",
        "Bedrock Converse (judge)",
        "retried as ModelThrottled; recovers, the image judged once",
        faults=(Fault("bedrock-runtime.Converse", THROTTLE, count=3, when=tool_is("record_verdict")),),
        retries=(3, 0),
    ),
    Case(
        "model-timeout",
        "ModelTimeoutException: 2 x HTTP 408",
        "Bedrock InvokeModel",
        "retried as ModelTimeout (2 s base, x2, full jitter); recovers",
        faults=(Fault("bedrock-runtime.InvokeModel", HttpError(408, "ModelTimeoutException", "timed out"), count=2),),
        retries=(2, 0),
    ),
    Case(
        "read-timeout",
        "Hang: no answer before the read timeout, twice",
        "Bedrock InvokeModel",
        "retried as ModelTimeout; recovers",
        faults=(Fault("bedrock-runtime.InvokeModel", Hang(), count=2),),
        retries=(2, 0),
    ),
    Case(
        "service-unavailable",
        "ServiceUnavailableException: 2 x HTTP 503",
        "Bedrock InvokeModel",
        "retried as ModelServiceError; recovers",
        faults=(
            Fault(
                "bedrock-runtime.InvokeModel",
                HttpError(503, "ServiceUnavailableException", "Service unavailable"),
                count=2,
            ),
        ),
        retries=(2, 0),
    ),
    Case(
        "service-unavailable-outlasts-retries",
        "ServiceUnavailableException: HTTP 503 on every call",
        "Bedrock InvokeModel",
        "6 retries as ModelServiceError, then the run fails with ModelServiceError",
        status="FAILED",
        error="ModelServiceError",
        faults=(
            Fault(
                "bedrock-runtime.InvokeModel",
                HttpError(503, "ServiceUnavailableException", "Service unavailable"),
                count=None,
            ),
        ),
        cause_mentions=f"{SD35}: ServiceUnavailableException",
        retries=(6, 0),
    ),
    Case(
        "internal-server-error",
        "InternalServerException: 2 x HTTP 500",
        "Bedrock Converse (judge)",
        "retried as ModelServiceError; recovers",
        faults=(
            Fault(
                "bedrock-runtime.Converse",
                HttpError(500, "InternalServerException", "Internal server error"),
                count=2,
                when=tool_is("record_verdict"),
            ),
        ),
        retries=(2, 0),
    ),
    Case(
        "sd35-content-filter",
        "Content filter answered with HTTP 200 (SD3.5 finish_reasons)",
        "Bedrock InvokeModel",
        "a refused attempt, recorded; the next attempt succeeds",
        scenario={"filter_first": 1},
        retries=(0, 0),
    ),
    Case(
        "sdxl-content-filter",
        "Content filter answered with HTTP 200 (SDXL finishReason CONTENT_FILTERED)",
        "Bedrock InvokeModel",
        "a refused attempt, recorded; the next attempt succeeds",
        scenario={"filter_first": 1},
        event={**SMALL, "generator": {"model_id": "stability.stable-diffusion-xl-v1"}},
        retries=(0, 0),
    ),
    Case(
        "nova-content-filter",
        "Content filter answered with HTTP 200 (Nova Canvas error field)",
        "Bedrock InvokeModel",
        "a refused attempt, recorded; the next attempt succeeds",
        scenario={"filter_first": 1},
        event={**SMALL, "generator": {"model_id": "amazon.nova-canvas-v1:0"}},
        retries=(0, 0),
    ),
    Case(
        "empty-model-body",
        "HTTP 200 with an empty body",
        "Bedrock InvokeModel",
        "no image: retried or a refused attempt; recovers",
        faults=(Fault("bedrock-runtime.InvokeModel", Body(b""), count=1),),
    ),
    Case(
        "non-json-model-body",
        "HTTP 200 with a body that is not JSON",
        "Bedrock InvokeModel",
        "no image: retried or a refused attempt; recovers",
        faults=(Fault("bedrock-runtime.InvokeModel", Body(b"<html>502 Bad Gateway</html>"), count=1),),
    ),
    Case(
        "json-array-model-body",
        "HTTP 200 with JSON that is not an object ([])",
        "Bedrock InvokeModel",
        "no image: retried or a refused attempt; recovers",
        faults=(Fault("bedrock-runtime.InvokeModel", Body(b"[]"), count=1),),
    ),
    Case(
        "json-body-without-image",
        "HTTP 200 with JSON that holds no image ({})",
        "Bedrock InvokeModel",
        "a refused attempt, recorded; the next attempt succeeds",
        faults=(Fault("bedrock-runtime.InvokeModel", Body(b"{}"), count=1),),
        retries=(0, 0),
    ),
    Case(
        "judge-without-tool",
        "The judge answers in prose, without the verdict tool",
        "Bedrock Converse (judge)",
        "no image passes; every image kept; the run fails with RequirementsNotMet",
        status="FAILED",
        error="RequirementsNotMet",
        scenario={"judge_without_tool": True},
        cause_mentions="No image met the requirement",
        retries=(0, 0),
    ),
    Case(
        "reviser-empty-reply",
        "The reviser answers HTTP 200 with an empty message (no tool call, no text)",
        "Bedrock Converse (reviser)",
        "the prompt is kept, with a note; the next attempt succeeds",
        scenario={"reject_first": 2},
        faults=(Fault("bedrock-runtime.Converse", Reply(EMPTY_MESSAGE), count=1, when=tool_is("propose_prompt")),),
        retries=(0, 0),
    ),
    Case(
        "retired-model",
        "The image model is retired (HTTP 400 ValidationException)",
        "Bedrock InvokeModel",
        "not retried; the run fails with ModelUnavailable and names the model",
        status="FAILED",
        error="ModelUnavailable",
        scenario={"retired": (SD35,)},
        cause_mentions=SD35,
        retries=(0, 0),
    ),
    Case(
        "staging-put-brief-500",
        "S3 InternalError: 2 x HTTP 500",
        "S3 PutObject to _staging/",
        "the SDK retries (standard mode); recovers without a state machine retry",
        faults=(Fault("s3.PutObject", S3_INTERNAL, count=2, when=STAGING),),
        retries=(0, 2),
    ),
    Case(
        "staging-put-brief-slowdown",
        "S3 SlowDown: 3 x HTTP 503",
        "S3 PutObject to _staging/",
        "the SDK retries (standard mode); recovers without a state machine retry",
        faults=(Fault("s3.PutObject", S3_SLOW_DOWN, count=3, when=STAGING),),
        retries=(0, 3),
    ),
    Case(
        "staging-put-persistent",
        "S3 InternalError on every staging put",
        "S3 PutObject to _staging/",
        "6 SDK tries; the run fails with a named error that names PutObject; the unstored image is the only loss",
        status="FAILED",
        error="StorageUnavailable",
        faults=(Fault("s3.PutObject", S3_INTERNAL, count=None, when=STAGING),),
        cause_mentions="PutObject",
        retries=(0, 5),
        may_lose=1,
    ),
    Case(
        "manifest-put-brief",
        "S3 SlowDown: 3 x HTTP 503 after the run opened",
        "S3 PutObject manifest.json",
        "the SDK retries (standard mode); recovers",
        faults=(Fault("s3.PutObject", S3_SLOW_DOWN, count=3, when=MANIFEST, skip=1),),
        retries=(0, 3),
    ),
    Case(
        "manifest-put-one-call",
        "S3 InternalError on 6 manifest puts in a row (one whole SDK call) after the run opened",
        "S3 PutObject manifest.json",
        "Save fails; the run fails with a named error; the image is filed and recorded when the run closes",
        status="FAILED",
        error="StorageUnavailable",
        faults=(Fault("s3.PutObject", S3_INTERNAL, count=6, when=MANIFEST, skip=1),),
        cause_mentions="PutObject",
        retries=(0, 5),
    ),
    Case(
        "manifest-put-at-open",
        "S3 InternalError on every manifest put, from the first",
        "S3 PutObject manifest.json",
        "the run fails at Check input with a named error and a cause without a stack trace",
        status="FAILED",
        error="StorageUnavailable",
        faults=(Fault("s3.PutObject", S3_INTERNAL, count=None, when=MANIFEST),),
        cause_mentions="PutObject",
        retries=(0, 5),
    ),
    Case(
        "manifest-unwritable",
        "S3 InternalError on every manifest put after the run opened",
        "S3 PutObject manifest.json",
        "Save and Report failure cannot record; the run fails with a named error and a cause without a stack trace; "
        "every image stays in S3",
        status="FAILED",
        error="StorageUnavailable",
        faults=(Fault("s3.PutObject", S3_INTERNAL, count=None, when=MANIFEST, skip=1),),
        cause_mentions="PutObject",
        retries=(0, 10),
        record_writable=False,
    ),
    Case(
        "lambda-throttled",
        "Lambda.TooManyRequestsException: 3 x",
        "Lambda Generate",
        "retried (2 s base, x2, full jitter); recovers",
        lambda_faults=(("generate", "", ("TooManyRequestsException",) * 3),),
        retries=(3, 0),
    ),
    Case(
        "lambda-throttled-outlasts-retries",
        "Lambda.TooManyRequestsException on every call",
        "Lambda Generate",
        "6 retries, then the run fails with Lambda.TooManyRequestsException",
        status="FAILED",
        error="Lambda.TooManyRequestsException",
        lambda_faults=(("generate", "", ("TooManyRequestsException",) * 10),),
        retries=(6, 0),
    ),
    Case(
        "lambda-error-save",
        "Lambda.ResourceNotFoundException (not retried)",
        "Lambda Save (record)",
        "the run fails with that error; the staged image is filed and recorded when the run closes",
        status="FAILED",
        error="Lambda.ResourceNotFoundException",
        lambda_faults=(("save", "record", ("ResourceNotFoundException",)),),
        retries=(0, 0),
    ),
    Case(
        "handler-raises",
        "The handler raises an unexpected RuntimeError",
        "Lambda Save (record), in S3 CopyObject",
        "the run fails with RuntimeError and its message only; the image is filed when the run closes",
        status="FAILED",
        error="RuntimeError",
        faults=(Fault("s3.CopyObject", Crash("injected crash in CopyObject"), count=1),),
        cause_mentions="injected crash in CopyObject",
        retries=(0, 0),
    ),
]


# Faults the project does not handle yet: each test fails (strict xfail) until the bug is fixed.
KNOWN_BUGS: dict[str, str] = {}


def _params() -> list[Any]:
    return [
        pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.id]))
        if c.id in KNOWN_BUGS
        else pytest.param(c, id=c.id)
        for c in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_fault(case: Case, runner: Any, s3: Any) -> None:
    run: LocalRunner = runner(**case.scenario)
    plan = FaultPlan([dataclasses.replace(f) for f in case.faults])
    run.hooks.append(plan.register)
    for module, action, codes in case.lambda_faults:
        logical_id = next(s.logical_id for s in run.workflow.functions.values() if s.handler.startswith(f"{module}."))
        run.lambdas.faults[f"{logical_id}:{action}" if action else logical_id] = list(codes)
    with plan.recorded_sdk_waits():
        result = run.run(case.event, case.id)

    checked = check(case, run, plan, result, s3)
    WAITS.extend(checked.waits)
    ROWS[case.id] = row(case, run, plan, result, checked, known_bug=case.id in KNOWN_BUGS)
    assert not checked.problems, "\n".join(checked.problems)


def test_retries_wait_with_full_jitter() -> None:
    if len(WAITS) < 10:
        pytest.skip("too few retries seen in this session to judge the jitter")
    assert all(0 <= wait <= bound for wait, bound in WAITS)
    # Without jitter every wait would sit on its bound.
    assert sum(wait < 0.9 * bound for wait, bound in WAITS) >= len(WAITS) // 3


def test_reliability_doc_is_current() -> None:
    """Writes docs/reliability.md from this session's matrix; fails if the committed one said otherwise."""
    missing = [c.id for c in CASES if c.id not in ROWS]
    if missing:
        pytest.skip(f"the whole matrix must run to write the document; missing {', '.join(missing)}")
    text = render([ROWS[c.id] for c in CASES])
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text)
    if COMMITTED is not None:
        assert text == COMMITTED, "docs/reliability.md was stale; it has been regenerated: review and commit it"

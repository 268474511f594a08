"""The latency mode, the seeded judge and the meter: botocore event handlers around the Bedrock stand-in.

Registered on a session's events (a `LocalRunner` hook, or the reference's own session) before any client
exists:

- every Bedrock call takes the model's simulated latency: a before-call handler notes the start, and an
  after-call handler sleeps what is left of it once the stand-in has answered, so a call lasts
  max(latency, the stand-in's own work);
- the judge's verdict on an image comes from the seeded judge (`bench.verdicts`), so every contender sees
  the same verdicts for the same image; the reply is the stand-in's own verdict
  (`imgloop.local.standin.judge.verdict`) in Converse's shape (`imgloop.local.standin.answers`);
- the meter counts what a bill counts into a `bench.usage.Usage`: images the model answered, judge and
  reviser tokens (estimated by `bench.tokens`), Lambda requests and their duration at the real (unscaled)
  model latency, and S3 requests by price class.

The Lambda task a call belongs to is known from the Lambda Invoke payload (revision, attempt, candidate):
the local Lambdas run the handler in the thread that invokes it, so a thread-local carries the position
from the Invoke to the Bedrock and S3 calls the handler makes.
"""

import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.response import StreamingBody

from bench.settings import Latency
from bench.tokens import converse_input_tokens, converse_output_tokens
from bench.usage import Usage
from bench.verdicts import Position, Verdicts
from common.names import JUDGE_TOOL
from imgloop.local.standin.answers import Answered, carries_image, ok, streamed, tool_use_reply
from imgloop.local.standin.judge import verdict

_URL = "https://bedrock-runtime.local"

# S3 request price classes (https://aws.amazon.com/s3/pricing/): writes and lists, reads, and free ones.
_S3_WRITES = {
    "PutObject",
    "CopyObject",
    "PostObject",
    "ListObjects",
    "ListObjectsV2",
    "CreateMultipartUpload",
    "UploadPart",
    "CompleteMultipartUpload",
}
_S3_FREE = {"DeleteObject", "DeleteObjects"}


@dataclass
class _Invocation:
    started: float
    memory_gb: float
    model_wall: float = 0.0
    model_real: float = 0.0


class _Local(threading.local):
    position: Position | None = None
    invocation: _Invocation | None = None
    metered: bool = False  # S3 calls count only inside a task (or the reference), not the bench's own


class Meter:
    """The handlers above, and the usage they count (one `Usage` per execution: executions run one at a time)."""

    def __init__(
        self,
        latency: Latency,
        verdicts: Verdicts | None,
        memory_gb: float = 0.5,
        memory_by_function: dict[str, float] | None = None,
    ) -> None:
        self.latency = latency
        self.verdicts = verdicts
        self.memory_gb = memory_gb  # the reference's one function, and any function not listed
        self.memory_by_function = memory_by_function or {}  # GB by function ARN, as the template sets it
        self.prompt_index = 0
        self.usage = Usage()
        self._lock = threading.Lock()
        self._local = _Local()

    def register(self, events: Any) -> None:
        for operation in ("InvokeModel", "Converse"):
            events.register_first(f"before-call.bedrock-runtime.{operation}", self._before_model)
            events.register_first(f"after-call.bedrock-runtime.{operation}", self._after_model)
        events.register_first("before-call.lambda.Invoke", self._before_lambda)
        events.register_first("after-call.lambda.Invoke", self._after_lambda)
        events.register_first("before-call.s3", self._count_s3)

    @contextmanager
    def measuring(self, prompt_index: int) -> Iterator[Usage]:
        """Count into a fresh Usage for one execution of this prompt."""
        self.prompt_index = prompt_index
        self.usage = Usage()
        yield self.usage

    @contextmanager
    def task(self, position: Position | None, memory_gb: float | None = None) -> Iterator[None]:
        """Calls made here belong to one Lambda invocation at this position (the reference's own loop)."""
        local = self._local
        saved = (local.position, local.invocation, local.metered)
        local.position, local.metered = position, True
        local.invocation = _Invocation(time.perf_counter(), memory_gb or self.memory_gb)
        try:
            yield
        finally:
            self._bill(local.invocation)
            local.position, local.invocation, local.metered = saved

    @contextmanager
    def at(self, position: Position) -> Iterator[None]:
        """Calls made here are for the image at this position (inside a `task`)."""
        saved = self._local.position
        self._local.position = position
        try:
            yield
        finally:
            self._local.position = saved

    # Lambda: the position and the billed duration of each invocation.
    def _before_lambda(self, params: dict[str, Any], **_: Any) -> None:
        payload = json.loads(params.get("body") or b"{}")
        function = unquote(params.get("url_path", "").split("/functions/", 1)[-1].split("/", 1)[0])
        local = self._local
        local.position = _position(payload)
        local.invocation = _Invocation(time.perf_counter(), self.memory_by_function.get(function, self.memory_gb))
        local.metered = True

    def _after_lambda(self, **_: Any) -> None:
        local = self._local
        if local.invocation is not None:
            self._bill(local.invocation)
        local.position, local.invocation, local.metered = None, None, False

    def _bill(self, invocation: _Invocation) -> None:
        wall = time.perf_counter() - invocation.started
        # On AWS the function waits the model's real latency, not the scaled one the bench sleeps.
        billed = max(0.0, wall - invocation.model_wall) + invocation.model_real
        with self._lock:
            self.usage.lambda_requests += 1
            self.usage.lambda_gb_s += math.ceil(billed * 1000) / 1000 * invocation.memory_gb

    # Bedrock: latency, the seeded judge, images and tokens.
    def _before_model(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> Answered | None:
        context["bench_started"] = time.perf_counter()
        if params.get("url_path", "").endswith("/converse"):
            body = json.loads(params.get("body") or b"{}")
            tool = body.get("toolConfig", {}).get("tools", [{}])[0].get("toolSpec", {}).get("name", "")
            context["bench_kind"] = "judge" if tool == JUDGE_TOOL else "reviser"
            context["bench_input_tokens"] = converse_input_tokens(body)
            if context["bench_kind"] == "judge":
                return self._judged(body)
        else:
            context["bench_kind"] = "image"
        return None

    def _judged(self, body: dict[str, Any]) -> Answered | None:
        position = self._local.position
        if self.verdicts is None or position is None:
            return None  # the stand-in's own judge answers
        number = position.image_number(self.verdicts.max_attempts)
        passed = self.verdicts.passes(self.prompt_index, number)
        with self._lock:
            self.usage.verdicts.append((position, passed))
        return ok(tool_use_reply(JUDGE_TOOL, verdict(body, number, passed), f"tool-{number}"), _URL)

    def _after_model(self, http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        kind = context.get("bench_kind", "image")
        answered = getattr(http_response, "status_code", 500) < 300
        if answered:
            left = self.latency.simulated(kind) - (time.perf_counter() - context["bench_started"])
            if left > 0:
                time.sleep(left)
        wall = time.perf_counter() - context["bench_started"]
        local = self._local
        if local.invocation is not None:
            local.invocation.model_wall += wall
            local.invocation.model_real += self.latency.real(kind) if answered else 0.0
        with self._lock:
            usage = self.usage
            usage.model_s += wall
            if not answered:
                usage.throttled += getattr(http_response, "status_code", 0) == 429
                usage.image_calls += kind == "image"
                return
            if kind == "image":
                usage.image_calls += 1
                usage.images += _carries_image(parsed)
                if local.position is not None:
                    key = (local.position.revision, local.position.attempt)
                    usage.attempts[key] = usage.attempts.get(key, False)
                return
            usage.input_tokens += context["bench_input_tokens"]
            usage.output_tokens += converse_output_tokens(parsed)
            reported = parsed.get("usage", {})
            usage.reported_input_tokens += int(reported.get("inputTokens", 0))
            usage.reported_output_tokens += int(reported.get("outputTokens", 0))
            if kind == "judge":
                usage.judge_calls += 1
                if local.position is not None:
                    usage.attempts[(local.position.revision, local.position.attempt)] = True
            else:
                usage.reviser_calls += 1

    # S3: requests by price class, inside tasks only.
    def _count_s3(self, model: Any, **_: Any) -> None:
        if not self._local.metered:
            return
        name = model.name
        with self._lock:
            if name in _S3_WRITES:
                self.usage.s3_writes += 1
            elif name in _S3_FREE:
                self.usage.s3_free += 1
            else:
                self.usage.s3_reads += 1


def _position(payload: Any) -> Position | None:
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), int) for k in ("revision", "attempt")):
        return None
    candidate, candidates = payload.get("candidate"), payload.get("candidates")
    return Position(
        revision=payload["revision"],
        attempt=payload["attempt"],
        candidate=candidate if isinstance(candidate, int) else 1,
        candidates=candidates if isinstance(candidates, int) else 1,
    )


def _carries_image(parsed: dict[str, Any]) -> bool:
    stream = parsed.get("body")
    if not isinstance(stream, StreamingBody):
        return False
    data = stream.read()
    parsed["body"] = streamed(data)  # the caller reads it again
    return carries_image(data)

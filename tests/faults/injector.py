"""Fault injection for local runs, at the botocore level, so the handlers meet faults the way they would on AWS.

A `FaultPlan` is a list of `Fault`s, each (operation, predicate on the call, how many calls, answer). Every
fault counts the calls it matched and answered; the first fault in the list that claims a call answers it.
One plan per run:

    plan = inject(runner, Fault("s3.PutObject", HttpError(503, "SlowDown"), count=3, when=key_under("_staging/")))
    with plan.recorded_sdk_waits():
        result = runner.run(event, "name")

- Bedrock (`bedrock-runtime.InvokeModel`, `bedrock-runtime.Converse`) and Lambda (`lambda.Invoke`) are answered
  in-process by stand-ins, so a fault answers them on `before-call`, ahead of the stand-in (`register_first`).
  An answer there skips botocore's retry loop; that loses nothing, since the project's Bedrock client makes one
  try only and leaves retrying to the state machine, as Step Functions does for Lambda's service errors.
- S3 (and any other service moto serves) is answered on `before-send`, inside botocore's retry loop, so the
  SDK's own retries (standard mode; the project's S3 client makes up to 6 tries) see the fault as they would
  see a real 5xx: a short burst recovers in the SDK, a long one reaches the handler. `recorded_sdk_waits()`
  records the SDK's backoff instead of sleeping it.

Bedrock's answers (errors, bodies, Converse replies) are built by `imgloop.local.standin.answers`, as the
stand-in's are.
The plan also keeps a ledger of the images the image model handed out (`images_answered`), whoever answered,
so a test can check that every one of them was kept.
"""

import io
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody

from imgloop.local.assembly import FunctionSpec
from imgloop.local.runner import LocalRunner
from imgloop.local.standin.answers import (
    Answered,
    HttpError,
    ImageRequest,
    carries_image,
    failed,
    filtered_response,
    invoke_model_output,
    ok,
    streamed,
)

# Where a request answered on before-send is pointed so that moto's stub (the next before-send handler)
# matches no service and leaves the answer to the fault: the call must not also reach moto's S3.
_UNROUTED_URL = "https://fault-injected.invalid/"
_TARGET = "imgloop.fault_target"
# Services answered in-process by a stand-in (the Bedrock stand-in, the local Lambdas) rather than by moto.
_STOOD_IN = {"bedrock-runtime", "lambda"}

# What Lambda and S3 answer when they fail.
LAMBDA_THROTTLED = HttpError(429, "TooManyRequestsException", "Rate Exceeded.")
LAMBDA_SERVICE_ERROR = HttpError(500, "ServiceException", "An error occurred in the Lambda service.")
LAMBDA_NOT_FOUND = HttpError(404, "ResourceNotFoundException", "Function not found.")
S3_INTERNAL = HttpError(500, "InternalError", "We encountered an internal error. Please try again.")
S3_SLOW_DOWN = HttpError(503, "SlowDown", "Please reduce your request rate.")


@dataclass(frozen=True)
class Target:
    """What a call is about, for a fault's predicate."""

    service: str
    operation: str
    model_id: str = ""  # Bedrock
    tool: str = ""  # Converse: the tool the caller forces (record_verdict, propose_prompt...)
    bucket: str = ""  # S3
    key: str = ""  # S3 (CopyObject: the destination)
    function: str = ""  # Lambda: the handler's package (generate, save...), else the function's name
    action: str = ""  # Lambda: the payload's action (Save's open, record, close...)


@dataclass(frozen=True)
class Body:
    """HTTP 200 whose InvokeModel body is these bytes (empty, not JSON, JSON of the wrong shape...)."""

    data: bytes


@dataclass(frozen=True)
class Filtered:
    """HTTP 200 with the content filter's refusal, in the response shape of the family the request is for."""


@dataclass(frozen=True)
class Reply:
    """HTTP 200 with this parsed response (for JSON APIs such as Converse)."""

    parsed: dict[str, Any]


@dataclass(frozen=True)
class Hang:
    """No answer before the read timeout: botocore's ReadTimeoutError, raised at once instead of waiting."""


@dataclass(frozen=True)
class Crash:
    """The call raises an exception nobody expects (a bug below the handler): RuntimeError(message)."""

    message: str = "injected crash"


Answer = HttpError | Body | Filtered | Reply | Hang | Crash


def always(_: Target) -> bool:
    return True


def key_under(prefix: str) -> Callable[[Target], bool]:
    """S3 calls whose key starts with prefix (e.g. '_staging/')."""
    return lambda target: target.key.startswith(prefix)


def key_endswith(suffix: str) -> Callable[[Target], bool]:
    """S3 calls whose key ends with suffix (e.g. '/manifest.json')."""
    return lambda target: target.key.endswith(suffix)


def model_is(model_id: str) -> Callable[[Target], bool]:
    return lambda target: target.model_id == model_id


def tool_is(tool: str) -> Callable[[Target], bool]:
    """Converse calls that force this tool: 'record_verdict' is the judge."""
    return lambda target: target.tool == tool


def function_is(function: str, action: str = "") -> Callable[[Target], bool]:
    """Lambda invocations of the function whose handler is in this package ('save'), with this action if given."""
    return lambda target: target.function == function and (not action or target.action == action)


@dataclass
class Fault:
    """Answer `count` calls of `operation` ('service.Operation') that match `when`, after letting `skip` through.

    count None answers every matching call after the skipped ones."""

    operation: str
    answer: Answer
    count: int | None = 1
    when: Callable[[Target], bool] = always
    skip: int = 0
    matched: int = 0
    fired: int = 0

    @property
    def service(self) -> str:
        return self.operation.split(".", 1)[0]

    def _claim(self, target: Target) -> bool:
        """Whether this call is one the fault answers (call under the plan's lock)."""
        if not self.when(target):
            return False
        self.matched += 1
        if self.matched <= self.skip:
            return False
        if self.count is not None and self.fired >= self.count:
            return False
        self.fired += 1
        return True


@dataclass
class FaultPlan:
    faults: list[Fault] = field(default_factory=list)
    # The local functions by ARN, so that a Lambda fault can name a function by its handler's package.
    functions: Mapping[str, FunctionSpec] = field(default_factory=dict)
    images_answered: int = 0  # InvokeModel answers that carried an image, from the stand-in or a fault
    sdk_waits: list[float] = field(default_factory=list)  # backoff the SDK's own retries asked for
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def fired(self) -> int:
        return sum(f.fired for f in self.faults)

    def register(self, events: Any) -> None:
        """A LocalRunner hook: called with the session's events before any client exists (one plan per run)."""
        for fault in self.faults:
            if isinstance(fault.answer, Body | Filtered | Reply) and fault.service != "bedrock-runtime":
                raise ValueError(f"{fault.operation}: a {type(fault.answer).__name__} answer is for Bedrock only")
        for operation in sorted({f.operation for f in self.faults}):
            if operation.split(".", 1)[0] in _STOOD_IN:
                events.register_first(f"before-call.{operation}", self._on_stood_in_call)
            else:
                events.register_first(f"before-parameter-build.{operation}", self._remember_target)
                events.register_first(f"before-send.{operation}", self._on_send)
        events.register("after-call.bedrock-runtime.InvokeModel", self._count_image)

    @contextmanager
    def recorded_sdk_waits(self) -> Iterator[list[float]]:
        """The SDK's retry backoff is recorded in sdk_waits instead of slept (as the runner does for Retry)."""
        import botocore.endpoint

        original = vars(botocore.endpoint)["time"]
        setattr(botocore.endpoint, "time", _SleepRecorder(self.sdk_waits))  # noqa: B010 - not re-exported
        try:
            yield self.sdk_waits
        finally:
            setattr(botocore.endpoint, "time", original)  # noqa: B010

    def _pick(self, target: Target) -> Fault | None:
        operation = f"{target.service}.{target.operation}"
        with self._lock:
            for fault in self.faults:
                if fault.operation == operation and fault._claim(target):
                    return fault
        return None

    # Bedrock and Lambda: before-call, ahead of their stand-ins.
    def _on_stood_in_call(self, params: dict[str, Any], model: Any, **_: Any) -> Answered | None:
        service = model.service_model.service_id.hyphenize()
        target = self._stood_in_target(service, model.name, params)
        fault = self._pick(target)
        if fault is None:
            return None
        url = f"https://{service}.local{params.get('url_path', '/')}"
        match fault.answer:
            case HttpError() as error:
                return failed(error, url)
            case Body(data=data):
                return ok(invoke_model_output(data), url)
            case Filtered():
                request = ImageRequest.read(json.loads(params["body"]))
                return ok(invoke_model_output(filtered_response(request.family, request.seed)), url)
            case Reply(parsed=reply):
                return ok(json.loads(json.dumps(reply)), url)
            case Hang():
                raise ReadTimeoutError(endpoint_url=url)
            case Crash(message=message):
                raise RuntimeError(message)

    def _stood_in_target(self, service: str, operation: str, params: dict[str, Any]) -> Target:
        path = str(params.get("url_path", ""))
        try:
            body = json.loads(params.get("body") or b"{}")
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        if service == "lambda":
            arn = unquote(path.split("/functions/", 1)[1].split("/", 1)[0]) if "/functions/" in path else ""
            spec = self.functions.get(arn)
            function = spec.handler.split(".", 1)[0] if spec else arn.rsplit(":", 1)[-1]
            return Target(service, operation, function=function, action=str(body.get("action", "")))
        model_id = unquote(path.split("/model/", 1)[1].rsplit("/", 1)[0]) if "/model/" in path else ""
        try:
            tool = str(body["toolConfig"]["tools"][0]["toolSpec"]["name"])
        except (KeyError, IndexError, TypeError):
            tool = ""
        return Target(service, operation, model_id=model_id, tool=tool)

    # Services moto serves: before-send, inside the SDK's retry loop.
    def _remember_target(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        service = model.service_model.service_id.hyphenize()
        context[_TARGET] = Target(
            service=service,
            operation=model.name,
            bucket=str(params.get("Bucket", "")),
            key=str(params.get("Key", "")),
        )

    def _on_send(self, request: Any, **_: Any) -> AWSResponse | None:
        target = (request.context or {}).get(_TARGET)
        if not isinstance(target, Target):
            return None
        fault = self._pick(target)
        if fault is None:
            return None
        url = request.url
        match fault.answer:
            case Hang():
                raise ReadTimeoutError(endpoint_url=url)
            case Crash(message=message):
                raise RuntimeError(message)
            case HttpError(status=status, code=code, message=message):
                request.url = _UNROUTED_URL
                body = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
                    "<RequestId>fault</RequestId></Error>"
                ).encode()
                headers = {"Content-Type": "application/xml", "Content-Length": str(len(body))}
                return AWSResponse(url, status, headers, _Raw(body))
            case Body() | Filtered() | Reply():  # refused by register()
                return None

    def _count_image(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        stream = parsed.get("body")
        if getattr(http_response, "status_code", 0) != 200 or not isinstance(stream, StreamingBody):
            return
        data = stream.read()
        parsed["body"] = streamed(data)  # the caller reads it again
        if carries_image(data):
            with self._lock:
                self.images_answered += 1


def inject(runner: LocalRunner, *faults: Fault) -> FaultPlan:
    """A plan of these faults, hooked into the runner's next session."""
    plan = FaultPlan(list(faults), functions=runner.workflow.functions)
    runner.hooks.append(plan.register)
    return plan


class _Raw(io.BytesIO):
    """A raw HTTP body as botocore reads it (urllib3's stream())."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


class _SleepRecorder:
    """Stands in for the time module in botocore.endpoint: sleep() records, the rest is the real module."""

    def __init__(self, waits: list[float]) -> None:
        self._waits = waits

    def sleep(self, seconds: float) -> None:
        self._waits.append(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)

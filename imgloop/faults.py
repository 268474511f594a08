"""Fault injection for local runs, at the botocore level, so the handlers meet faults the way they would on AWS.

A `FaultPlan` is a list of `Fault`s, each (operation, predicate on the call, how many calls, answer). Every
fault counts the calls it matched and answered. One plan per run:

    plan = FaultPlan([Fault("s3.PutObject", HttpError(503, "SlowDown"), count=3, when=key_under("_staging/"))])
    runner.hooks.append(plan.register)
    with plan.recorded_sdk_waits():
        result = runner.run(event, "name")

- Bedrock (`bedrock-runtime.InvokeModel`, `bedrock-runtime.Converse`) is answered on `before-call`, ahead of
  the stand-in (`register_first`). An answer there skips botocore's retry loop; that loses nothing, since the
  project's Bedrock client makes one try only and leaves retrying to the state machine.
- S3 (and any other service) is answered on `before-send`, inside botocore's retry loop, so the SDK's own
  retries (standard mode; the project's S3 client makes up to 6 tries) see the fault as they would see a real
  5xx: a short burst recovers in the SDK, a long one reaches the handler. `recorded_sdk_waits()` records the
  SDK's backoff instead of sleeping it.

The plan also keeps a ledger of the images the image model handed out (`images_answered`), whoever answered,
so a test can check that every one of them was kept.
"""

import base64
import binascii
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError
from botocore.response import StreamingBody

# Where a request answered on before-send is pointed so that moto's stub (the next before-send handler)
# matches no service and leaves the answer to the fault: the call must not also reach moto's S3.
_UNROUTED_URL = "https://fault-injected.invalid/"
_TARGET = "imgloop.fault_target"


@dataclass(frozen=True)
class Target:
    """What a call is about, for a fault's predicate."""

    service: str
    operation: str
    model_id: str = ""  # Bedrock
    tool: str = ""  # Converse: the tool the caller forces (record_verdict, propose_prompt...)
    bucket: str = ""  # S3
    key: str = ""  # S3 (CopyObject: the destination)


@dataclass(frozen=True)
class HttpError:
    """The service answers with this HTTP status and error code."""

    status: int
    code: str
    message: str = "Injected fault."

    def describe(self) -> str:
        return f"HTTP {self.status} {self.code}"


@dataclass(frozen=True)
class Body:
    """HTTP 200 whose InvokeModel body is these bytes (empty, not JSON, JSON of the wrong shape...)."""

    data: bytes

    def describe(self) -> str:
        return f"HTTP 200, body {self.data[:40]!r}"


@dataclass(frozen=True)
class Reply:
    """HTTP 200 with this parsed response (for JSON APIs such as Converse)."""

    parsed: dict[str, Any]

    def describe(self) -> str:
        return f"HTTP 200, {json.dumps(self.parsed)[:60]}"


@dataclass(frozen=True)
class Hang:
    """No answer before the read timeout: botocore's ReadTimeoutError, raised at once instead of waiting."""

    def describe(self) -> str:
        return "read timeout"


@dataclass(frozen=True)
class Crash:
    """The call raises an exception nobody expects (a bug below the handler): RuntimeError(message)."""

    message: str = "injected crash"

    def describe(self) -> str:
        return f"RuntimeError({self.message!r})"


Answer = HttpError | Body | Reply | Hang | Crash


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

    @property
    def operation_name(self) -> str:
        return self.operation.split(".", 1)[1]

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
    images_answered: int = 0  # InvokeModel answers that carried an image, from the stand-in or a fault
    sdk_waits: list[float] = field(default_factory=list)  # backoff the SDK's own retries asked for
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def fired(self) -> int:
        return sum(f.fired for f in self.faults)

    def register(self, events: Any) -> None:
        """A LocalRunner hook: called with the session's events before any client exists (one plan per run)."""
        for fault in self.faults:
            if isinstance(fault.answer, Body | Reply) and fault.service != "bedrock-runtime":
                raise ValueError(f"{fault.operation}: a {type(fault.answer).__name__} answer is for Bedrock only")
        for operation in sorted({f.operation for f in self.faults}):
            if operation.startswith("bedrock-runtime."):
                events.register_first(f"before-call.{operation}", self._on_bedrock_call)
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

    # Bedrock: before-call, ahead of the stand-in.
    def _on_bedrock_call(
        self, params: dict[str, Any], model: Any, **_: Any
    ) -> tuple[AWSResponse, dict[str, Any]] | None:
        target = _bedrock_target(model.name, params)
        fault = self._pick(target)
        if fault is None:
            return None
        url = f"https://bedrock-runtime.local{params.get('url_path', '/')}"
        answer = fault.answer
        match answer:
            case HttpError(status=status, code=code, message=message):
                parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
                return AWSResponse(url, status, {}, None), parsed
            case Body(data=data):
                stream = StreamingBody(io.BytesIO(data), len(data))
                return AWSResponse(url, 200, {}, None), {
                    "body": stream,
                    "contentType": "application/json",
                    "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "fault"},
                }
            case Reply(parsed=reply):
                return AWSResponse(url, 200, {}, None), {
                    **json.loads(json.dumps(reply)),
                    "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": "fault"},
                }
            case Hang():
                raise ReadTimeoutError(endpoint_url=url)
            case Crash(message=message):
                raise RuntimeError(message)

    # Other services: before-send, inside the SDK's retry loop.
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
        answer = fault.answer
        match answer:
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
            case Body() | Reply():  # refused by register()
                return None

    def _count_image(self, http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        stream = parsed.get("body")
        if getattr(http_response, "status_code", 0) != 200 or not isinstance(stream, StreamingBody):
            return
        data = stream.read()
        parsed["body"] = StreamingBody(io.BytesIO(data), len(data))  # the caller reads it again
        if carries_image(data):
            with self._lock:
                self.images_answered += 1


def carries_image(data: bytes) -> bool:
    """Whether an InvokeModel answer holds an image, in any of the image families' response shapes."""
    try:
        body = json.loads(data)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("artifacts"), list):  # SDXL
        artifacts = body["artifacts"]
        first = artifacts[0] if artifacts and isinstance(artifacts[0], dict) else {}
        return first.get("finishReason", "SUCCESS") == "SUCCESS" and _is_base64(first.get("base64"))
    reasons = body.get("finish_reasons") or [None]  # Stability
    images = body.get("images") or []
    return not body.get("error") and not reasons[0] and bool(images) and _is_base64(images[0])


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


def _bedrock_target(operation: str, params: dict[str, Any]) -> Target:
    path = str(params.get("url_path", ""))
    model_id = unquote(path.split("/model/", 1)[1].rsplit("/", 1)[0]) if "/model/" in path else ""
    tool = ""
    if operation == "Converse":
        try:
            body = json.loads(params.get("body") or b"{}")
            tool = str(body["toolConfig"]["tools"][0]["toolSpec"]["name"])
        except (ValueError, KeyError, IndexError, TypeError):
            tool = ""
    return Target(service="bedrock-runtime", operation=operation, model_id=model_id, tool=tool)


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

"""Lambda Invoke served in-process: the state machine's tasks call the real handlers."""

import importlib
import io
import json
import os
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from imgloop.assembly import FunctionSpec


@dataclass
class LambdaContext:
    """The attributes of the Lambda context object that Powertools reads."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = ""
    log_group_name: str = "local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@dataclass
class Invocation:
    function: str
    event: dict[str, Any]
    error: str | None


class LocalLambdas:
    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self._functions = functions
        self.invocations: list[Invocation] = []
        # A test can make a function's next calls fail as the Lambda service would, keyed by the
        # function's logical id, or "<logical id>:<action>" for the Save function's actions.
        self.faults: dict[str, list[str]] = {}
        # Settings a local deploy would have given the functions (an extra bucket, say).
        self.overrides: dict[str, str] = {}

    def register(self, events: Any) -> None:
        events.register("before-call.lambda.Invoke", self._on_invoke)

    def _handler(self, spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
        module, function = spec.handler.rsplit(".", 1)
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]

    def _on_invoke(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        arn = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
        spec = self._functions[arn]
        event = json.loads(params["body"] or b"{}")
        pending = self.faults.get(f"{spec.logical_id}:{event.get('action')}") or self.faults.get(spec.logical_id) or []
        if pending:
            code = pending.pop(0)
            self.invocations.append(Invocation(spec.logical_id, event, f"Lambda.{code}"))
            return _response(
                429 if code == "TooManyRequestsException" else 500, {"Error": {"Code": code, "Message": "injected"}}
            )
        context = LambdaContext(spec.logical_id, arn, aws_request_id=str(uuid.uuid4()))
        os.environ.update({**spec.environment, **self.overrides})
        try:
            result = self._handler(spec)(event, context)
        except Exception as error:
            self.invocations.append(Invocation(spec.logical_id, event, type(error).__name__))
            payload = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return _response(200, _invoke_result(payload, function_error="Unhandled"))
        self.invocations.append(Invocation(spec.logical_id, event, None))
        return _response(200, _invoke_result(result))


def _invoke_result(payload: Any, function_error: str | None = None) -> dict[str, Any]:
    data = json.dumps(payload).encode()
    parsed: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": StreamingBody(io.BytesIO(data), len(data)),
    }
    if function_error:
        parsed["FunctionError"] = function_error
    return parsed


def _response(status: int, parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed.setdefault("ResponseMetadata", {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())})
    return AWSResponse("https://lambda.local", status, {}, None), parsed

"""Lambda Invoke served in-process: the state machine's tasks call the real handlers."""

import importlib
import json
import os
import threading
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from imgloop.local.assembly import FunctionSpec
from imgloop.local.standin.answers import Answered, ok, streamed

_URL = "https://lambda.local"


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


class LocalLambdas:
    def __init__(self, functions: dict[str, FunctionSpec]) -> None:
        self._functions = functions
        # Settings a local deploy would have given the functions (an extra bucket, say).
        self.overrides: dict[str, str] = {}
        # Invocations under way, so that an interrupted run ends only once none is writing to the account.
        self._running = 0
        self._idle = threading.Condition()
        self._stopped = False

    def stop(self, timeout: float) -> None:
        """Run no more functions, and wait (at most timeout seconds) for those under way to end: a stopped
        execution's threads may still invoke one, after the account it would write to has closed."""
        with self._idle:
            self._stopped = True
            self._idle.wait_for(lambda: self._running == 0, timeout)

    def register(self, events: Any) -> None:
        # Imported here, one after another: Map iterations invoke in parallel threads, and a first
        # import racing another can see a half-initialized module.
        for spec in self._functions.values():
            _set_environment({**spec.environment, **self.overrides})
            self._handler(spec)
        self._stopped = False
        events.register("before-call.lambda.Invoke", self._on_invoke)

    def _handler(self, spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
        module, function = spec.handler.rsplit(".", 1)
        return getattr(importlib.import_module(module), function)  # type: ignore[no-any-return]

    def _on_invoke(self, params: dict[str, Any], **_: Any) -> Answered:
        arn = unquote(params["url_path"].split("/functions/", 1)[1].split("/", 1)[0])
        spec = self._functions[arn]
        event = json.loads(params["body"] or b"{}")
        context = LambdaContext(spec.logical_id, arn, aws_request_id=str(uuid.uuid4()))
        with self._idle:
            if self._stopped:
                stopped = {"errorMessage": "the local run was stopped", "errorType": "Stopped"}
                return ok(_invoke_result(stopped, function_error="Unhandled"), _URL)
            self._running += 1
        try:
            _set_environment({**spec.environment, **self.overrides})
            result = self._handler(spec)(event, context)
        except Exception as error:
            payload = {
                "errorMessage": str(error),
                "errorType": type(error).__name__,
                "requestId": context.aws_request_id,
                "stackTrace": traceback.format_tb(error.__traceback__),
            }
            return ok(_invoke_result(payload, function_error="Unhandled"), _URL)
        finally:
            _drop_metrics()
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
        return ok(_invoke_result(result), _URL)


def _drop_metrics() -> None:
    """Forget the invocation's metrics, as a Lambda's flush does. Locally they are not published
    (POWERTOOLS_METRICS_DISABLED), and Powertools then keeps them: one process running many functions
    would reach its 100 values, and publish them mid-run, or fail there with no namespace set."""
    from common.observability import metrics

    metrics.clear_metrics()


def _invoke_result(payload: Any, function_error: str | None = None) -> dict[str, Any]:
    parsed: dict[str, Any] = {
        "StatusCode": 200,
        "ExecutedVersion": "$LATEST",
        "Payload": streamed(json.dumps(payload).encode()),
    }
    if function_error:
        parsed["FunctionError"] = function_error
    return parsed


_ENVIRONMENT_LOCK = threading.Lock()
# The process's own values of the variables the functions' settings replaced, until the session ends.
_saved: dict[str, str | None] = {}


def _set_environment(values: dict[str, str]) -> None:
    """The function's environment for an invocation, as Lambda gives it. The stack's functions share
    their settings, so parallel invocations agree on the values. Nothing is removed before the session
    ends (`functions_environment`): moto's threads read os.environ without a lock (botocore looks for
    proxies in it whenever a client is made), and a variable removed between their listing it and
    reading it failed a task with KeyError, which the batch saw as an item ending in States.Runtime."""
    with _ENVIRONMENT_LOCK:
        for name in values:
            _saved.setdefault(name, os.environ.get(name))
        os.environ.update(values)


@contextmanager
def functions_environment() -> Iterator[None]:
    """The span of a local session: the process's own values come back when it ends, so nothing a
    run's functions set (an allow-list, say) leaks into what runs next in this process."""
    try:
        yield
    finally:
        with _ENVIRONMENT_LOCK:
            for name, value in _saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
            _saved.clear()

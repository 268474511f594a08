"""The conformance harness: each scenario runs on moto with the real handlers, whose answers are
recorded, then on the other engines with the same answers replayed through a bridge on 127.0.0.1; the
engines' ends are compared with moto's. No engine here is ours: each is driven through its own API."""

import json
import re
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from imgloop.local.assembly import FunctionSpec
from imgloop.local.runner import LocalRunner
from imgloop.local.standin.service import Scenario
from imgloop.runs.executions import Execution, follow
from tests.conformance.scenarios import BATCH, BUCKET, ConformanceScenario
from tests.faults.injector import inject

_STATES_ARN = re.compile(r'arn:aws:states:[^"\\\s]*')
_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?")


# What Lambda adds to a function's error that differs on every invocation, on AWS too.
_PER_INVOCATION = ("requestId", "stackTrace")


def normal(value: Any) -> str:
    """A value as engines may differ on it only where AWS would too: ARNs and times of the execution, and
    a function error's request id and stack trace inside a caught error's cause."""
    text = json.dumps(_without_invocation(value), sort_keys=True, separators=(",", ":"))
    return _TIME.sub("<time>", _STATES_ARN.sub("<states-arn>", text))


def _without_invocation(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_invocation(v) for k, v in value.items() if k not in _PER_INVOCATION}
    if isinstance(value, list):
        return [_without_invocation(v) for v in value]
    if isinstance(value, str) and value.startswith("{") and '"errorType"' in value:
        try:
            error = json.loads(value)
        except ValueError:
            return value
        return json.dumps(_without_invocation(error), sort_keys=True) if isinstance(error, dict) else value
    return value


@dataclass
class Call:
    function: str
    payload: Any
    answer: dict[str, Any]  # {"payload", "function_error", "cause"}: what the bridge sends back

    @property
    def key(self) -> tuple[str, str]:
        return self.function, normal(self.payload)


@dataclass
class End:
    """How an execution ended, on any engine, with the task calls it made."""

    status: str
    error: str | None
    cause: str | None
    output: Any
    calls: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Recording:
    scenario: ConformanceScenario
    definition: dict[str, Any]
    input: Any
    name: str
    context: dict[str, Any]
    end: End
    calls: list[Call]
    files: dict[str, str]  # "bucket/key" -> text, for an ItemReader


def _answer(payload: Any, error: str | None = None) -> dict[str, Any]:
    cause = None if error is None else json.dumps(payload, separators=(",", ":"))
    return {"payload": payload, "function_error": error, "cause": cause}


def _recording_handlers(runner: LocalRunner, calls: list[Call]) -> None:
    """Every handler call on moto and its answer, as Lambda's Invoke returns it."""
    handler_of = runner.lambdas._handler
    lock = threading.Lock()

    def wrapped(spec: FunctionSpec) -> Callable[[dict[str, Any], Any], Any]:
        real = handler_of(spec)

        def call(event: dict[str, Any], context: Any) -> Any:
            arn = context.invoked_function_arn
            try:
                result = real(event, context)
            except Exception as error:
                payload = {"errorMessage": str(error), "errorType": type(error).__name__}
                with lock:
                    calls.append(Call(arn, event, _answer(payload, "Unhandled")))
                raise
            with lock:
                calls.append(Call(arn, event, _answer(json.loads(json.dumps(result)))))
            return result

        return call

    runner.lambdas._handler = wrapped  # type: ignore[method-assign]


def record(assembly: Path, scenario: ConformanceScenario) -> Recording:
    """The scenario on moto, the reference: its end and every task's answer."""
    runner = LocalRunner(assembly, Scenario(**scenario.standin))
    if scenario.faults:
        inject(runner, *scenario.faults)
    calls: list[Call] = []
    _recording_handlers(runner, calls)
    files: dict[str, str] = {}
    name = f"c-{scenario.name}"
    event = scenario.event
    if scenario.machine == BATCH:
        key = f"batches/{event['batch']}/input.jsonl"
        event = {**event, "input": f"s3://{BUCKET}/{key}"}

        def watch(sfn: Any, arn: str) -> Execution:
            execution = follow(sfn, arn, poll_seconds=0.05)
            s3 = boto3.client("s3")
            for listed in s3.list_objects_v2(Bucket=BUCKET, Prefix="batches/").get("Contents", []):
                body = s3.get_object(Bucket=BUCKET, Key=listed["Key"])["Body"].read()
                files[f"{BUCKET}/{listed['Key']}"] = body.decode()
            return execution

        data = ("\n".join(scenario.lines) + "\n").encode()
        result = runner.run_batch(event, name, files=[(key, data)], watch=watch)
        definition = runner.workflow.batch_definition
    else:
        result = runner.run(event, name, uploads=scenario.uploads)
        definition = runner.workflow.definition
    started = result.history[0]["timestamp"]
    context = {
        "Execution": {
            "Id": result.execution_arn,
            "Name": name,
            "Input": event,
            "StartTime": started.isoformat() if hasattr(started, "isoformat") else str(started),
        }
    }
    end = End(result.status, result.error, result.cause, result.output, [c.key for c in calls])
    return Recording(scenario, definition, event, name, context, end, calls, files)


class Replayer:
    """moto's answers, each given once to the call it answered there (same function, same payload)."""

    def __init__(self, calls: list[Call]) -> None:
        self._answers: dict[tuple[str, str], deque[dict[str, Any]]] = defaultdict(deque)
        for call in calls:
            self._answers[call.key].append(call.answer)
        self.calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def answer(self, function: str, payload: Any) -> dict[str, Any]:
        key = (function, normal(payload))
        with self._lock:
            self.calls.append(key)
            answers = self._answers.get(key)
            if answers:
                return answers.popleft()
        unrecorded = {"errorType": "ConformanceUnrecordedCall", "errorMessage": f"{function}: no answer recorded"}
        return _answer(unrecorded, "Unhandled")


class Bridge:
    """The HTTP endpoint on 127.0.0.1 the other engines' Lambda tasks call: POST {"run", "function",
    "payload"} answers with moto's recorded answer."""

    def __init__(self) -> None:
        self.replayers: dict[str, Replayer] = {}
        replayers = self.replayers

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                answer = replayers[body["run"]].answer(body["function"], body["payload"])
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/"

    def __enter__(self) -> "Bridge":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

"""Runs state machines on LocalStack's Step Functions engine, in this process (no LocalStack server, no
Docker), under the separate Python 3.13 virtualenv that `make conformance` makes (.tools/ls-venv).

Reads one JSON object on stdin: {"bridge": URL, "runs": [{"id", "definition", "input", "name", "files"}]},
and prints one JSON line per run: {"id", "status", "error", "cause", "output"}. Every Lambda Invoke is
answered by the harness's bridge (POST {"run", "state", "parameters"}), every S3 GetObject of an
ItemReader from the run's "files"; retry intervals are recorded, not slept. It imports nothing of the
project: the project's packages are not installed in this virtualenv.
"""

import functools
import json
import sys
import time
import types
import urllib.request
from typing import Any

ACCOUNT = "123456789012"
REGION = "us-west-2"
_current: dict[str, Any] = {}


def _post(body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        _current["bridge"], data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read())


def _patch() -> None:
    import importlib

    ext = importlib.import_module("jsonpath_ng.ext")
    from localstack.services.stepfunctions.asl.component.common.retry import retrier_decl

    resource_eval_s3 = importlib.import_module(
        "localstack.services.stepfunctions.asl.component.state.state_execution.state_map.item_reader"
        ".resource_eval.resource_eval_s3"
    )
    from localstack.services.stepfunctions.asl.component.state.state_execution.state_task import lambda_eval_utils
    from localstack.services.stepfunctions.asl.utils import json_path
    from localstack.services.stepfunctions.backend import execution

    # Parsing a JSONPath takes milliseconds and the engine parses each path at each use: cached, a run
    # takes a fraction of a second instead of seconds.
    json_path.parse = functools.lru_cache(maxsize=None)(ext.parse)

    # The retrier only sleeps with `time`: the interval is skipped, as the local runner skips it on moto.
    retrier_decl.time = types.SimpleNamespace(sleep=lambda _: None)

    def invoke(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
        payload = parameters.get("Payload")
        if isinstance(payload, bytes):
            payload = json.loads(payload)
        answer = _post({"run": _current["id"], "function": parameters["FunctionName"], "payload": payload})
        response: dict[str, Any] = {"StatusCode": 200, "Payload": answer["payload"], "ExecutedVersion": "$LATEST"}
        if answer.get("function_error"):
            response["FunctionError"] = answer["function_error"]
        return response

    lambda_eval_utils._invoke_lambda_function = invoke
    # An execution's status change goes to EventBridge, which is not here (each try would wait on a
    # connection to a LocalStack server).
    execution.Execution.publish_execution_status_change_event = lambda self: None

    def get_object(env: Any, resource_runtime_part: Any, state_credentials: Any) -> None:
        parameters = env.stack.pop()
        env.stack.append(_current["files"][f"{parameters['Bucket']}/{parameters['Key']}"])

    resource_eval_s3.ResourceEvalS3._handle_get_object = staticmethod(get_object)


def main() -> None:
    import logging

    logging.disable(logging.CRITICAL)
    from localstack.aws.api import RequestContext
    from localstack.services.stepfunctions.provider import StepFunctionsProvider

    _patch()
    job = json.load(sys.stdin)
    provider = StepFunctionsProvider()
    for run in job["runs"]:
        _current.update(bridge=job["bridge"], id=run["id"], files=run.get("files", {}))
        context = RequestContext(None)
        context.account_id = ACCOUNT
        context.region = REGION
        machine = provider.create_state_machine(
            context,
            {
                "name": f"m-{run['id']}",
                "definition": json.dumps(run["definition"]),
                "roleArn": f"arn:aws:iam::{ACCOUNT}:role/imgloop-local",
            },
        )
        started = provider.start_execution(
            context, machine["stateMachineArn"], name=run["name"], input=json.dumps(run["input"])
        )
        deadline = time.monotonic() + 300
        while True:
            described = provider.describe_execution(context, started["executionArn"])
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        output = described.get("output")
        print(
            json.dumps(
                {
                    "id": run["id"],
                    "status": described["status"],
                    "error": described.get("error"),
                    "cause": described.get("cause"),
                    "output": None if output is None else json.loads(output),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()

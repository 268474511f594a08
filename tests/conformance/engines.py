"""The engines besides moto, each driven in its own process through its own API, its Lambda tasks
answered by the harness's bridge: aws-local-stepfunctions (Node.js) and LocalStack's Step Functions
engine (Python 3.13, in-process in its driver)."""

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from imgloop import PROJECT_ROOT
from tests.conformance.harness import Bridge, End, Recording, Replayer

HERE = Path(__file__).parent
TOOLS = PROJECT_ROOT / ".tools"
NODE_ENGINE = TOOLS / "sfn-local" / "node_modules" / "aws-local-stepfunctions" / "build" / "main.node.esm.js"
LOCALSTACK_PYTHON = TOOLS / "ls-venv" / "bin" / "python"
NODE = "aws-local-stepfunctions"
LOCALSTACK = "localstack"


def without_result_path_root(value: Any) -> Any:
    """The definition with every `"ResultPath": "$"` left out, which AWS documents as the same as no
    ResultPath; aws-local-stepfunctions writes the result to a key named "$" instead."""
    if isinstance(value, list):
        return [without_result_path_root(v) for v in value]
    if isinstance(value, dict):
        return {k: without_result_path_root(v) for k, v in value.items() if not (k == "ResultPath" and v == "$")}
    return value


def _run(command: list[str], job: dict[str, Any], env: dict[str, str] | None = None) -> dict[str, dict[str, Any]]:
    done = subprocess.run(
        command, input=json.dumps(job), capture_output=True, text=True, env=env, timeout=600, check=False
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or len(lines) != len(job["runs"]):
        raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return {line["id"]: line for line in lines}


def run_engine(engine: str, recordings: list[Recording], bridge: Bridge) -> dict[str, End]:
    """Each recording's scenario on the engine, in one process; the ends by scenario name."""
    replayers = {r.scenario.name: Replayer(r.calls) for r in recordings}
    bridge.replayers.clear()
    bridge.replayers.update(replayers)
    runs = []
    for r in recordings:
        run: dict[str, Any] = {"id": r.scenario.name, "input": r.input, "name": r.name}
        if engine == NODE:
            run.update(definition=without_result_path_root(r.definition), context=r.context)
        else:
            run.update(definition=r.definition, files=r.files)
        runs.append(run)
    job = {"bridge": bridge.url, "runs": runs}
    if engine == NODE:
        env = {**os.environ, "AWS_LOCAL_STEPFUNCTIONS": NODE_ENGINE.as_uri()}
        lines = _run(["node", str(HERE / "node_driver.mjs")], job, env)
    else:
        lines = _run([str(LOCALSTACK_PYTHON), str(HERE / "localstack_driver.py")], job)
    return {
        name: End(line["status"], line["error"], line["cause"], line["output"], replayers[name].calls)
        for name, line in lines.items()
    }

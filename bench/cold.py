"""How long each handler module takes to import in a fresh interpreter: the init a cold Lambda pays.

Each sample is a new `python` process with lambdas/ on the path and the function's environment as the
template sets it, plus what the Lambda runtime sets (function name, region), so Powertools configures
itself as deployed. Only the `import` is timed, in the child, with time.perf_counter; the interpreter's
own start is not.
"""

import json
import os
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from common.names import DEFAULT_REGION
from imgloop.local.assembly import Workflow

_CHILD = """\
import sys, time, json, importlib
started, cpu = time.perf_counter(), time.process_time()
importlib.import_module(sys.argv[1])
wall, cpu = time.perf_counter() - started, time.process_time() - cpu
print(json.dumps({"ms": wall * 1000, "cpu_ms": cpu * 1000, "modules": len(sys.modules)}))
"""


@dataclass(frozen=True)
class ImportTime:
    module: str
    samples_ms: list[float]  # wall time (time.perf_counter)
    cpu_ms: list[float]  # the child's CPU time (time.process_time): what other processes on the machine do not change
    modules: int  # how many modules were loaded in all
    heaviest: list[tuple[str, float]]  # the packages whose modules took longest to run (ms, self time)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def median_cpu_ms(self) -> float:
        return statistics.median(self.cpu_ms)


def _environment(workflow: Workflow, handler: str, lambdas: Path) -> dict[str, str]:
    spec = next(s for s in workflow.functions.values() if s.handler == handler)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "PYTHON"))}
    env.update(spec.environment)
    env.update(
        {
            "PYTHONPATH": str(lambdas),
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
            "AWS_REGION": DEFAULT_REGION,
            "AWS_DEFAULT_REGION": DEFAULT_REGION,
        }
    )
    return env


def measure(workflow: Workflow, lambdas: Path, repeats: int) -> list[ImportTime]:
    handlers = sorted({spec.handler for spec in workflow.functions.values()})
    return [_timed(h.rsplit(".", 1)[0], _environment(workflow, h, lambdas), lambdas, repeats) for h in handlers]


def boto3_import(workflow: Workflow, lambdas: Path, repeats: int) -> ImportTime:
    """A bare `import boto3`, in the same kind of fresh interpreter with the same environment as the handlers
    (the first's): what every Python function that calls AWS pays, the yardstick of cold_import_vs_boto3."""
    handler = min(spec.handler for spec in workflow.functions.values())
    return _timed("boto3", _environment(workflow, handler, lambdas), lambdas, repeats)


def vs_boto3(imports: list[ImportTime], boto3: ImportTime | None) -> float | None:
    """cold_import_vs_boto3: the slowest handler's median import over boto3's."""
    if not imports or boto3 is None or not boto3.median_ms:
        return None
    return round(max(i.median_ms for i in imports) / boto3.median_ms, 3)


def _timed(module: str, env: dict[str, str], lambdas: Path, repeats: int) -> ImportTime:
    samples, cpu, modules = [], [], 0
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, module], env=env, cwd=lambdas, capture_output=True, text=True, check=True
        )
        answer = json.loads(out.stdout.strip().splitlines()[-1])
        samples.append(float(answer["ms"]))
        cpu.append(float(answer["cpu_ms"]))
        modules = int(answer["modules"])
    return ImportTime(module, samples, cpu, modules, _heaviest(module, env, lambdas))


def _heaviest(module: str, env: dict[str, str], lambdas: Path, top: int = 6) -> list[tuple[str, float]]:
    """`python -X importtime` (one more run, not a timed sample): the top-level packages whose modules' own
    bodies took longest (self time, summed over each package's modules; for the project's `common`, that
    includes building its pydantic models)."""
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        env=env,
        cwd=lambdas,
        capture_output=True,
        text=True,
        check=True,
    )
    spent: Counter[str] = Counter()
    for line in out.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if not line.startswith("import time:") or len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        spent[parts[2].strip().split(".", 1)[0]] += int(parts[0].strip())
    return [(name, us / 1000) for name, us in spent.most_common(top)]

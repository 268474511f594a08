"""`make conformance`: the scenario suite on moto, aws-local-stepfunctions (the loop only: it has no
Distributed Map) and LocalStack's engine, with the same task answers on each. Prints each difference,
then as its last line one JSON object: {"engines": {engine: scenarios passed}, "divergences": [...],
"unexplained": N}; exits 1 if anything is unexplained."""

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from imgloop.local.assembly import synthesize
from tests.conformance.compare import RESULT_PATH_ROOT, differences
from tests.conformance.engines import LOCALSTACK, NODE, run_engine
from tests.conformance.harness import Bridge, Recording, record
from tests.conformance.scenarios import LOOP, scenarios

MOTO = "moto"


def _moto_holds(recording: Recording) -> bool:
    scenario, end = recording.scenario, recording.end
    return end.status == scenario.status and end.error == scenario.error


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.conformance")
    parser.add_argument("--engines", default=f"{NODE},{LOCALSTACK}", help="besides moto, comma-separated")
    parser.add_argument("--only", default="", help="scenario names, comma-separated")
    args = parser.parse_args(argv)
    only = {n for n in args.only.split(",") if n}
    chosen = [s for s in scenarios() if not only or s.name in only]

    unexplained = 0
    divergences: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as out:
        assembly = synthesize(Path(out) / "cdk.out")
        recordings = [record(assembly, s) for s in chosen]
    passed = {MOTO: 0}
    for r in recordings:
        if _moto_holds(r):
            passed[MOTO] += 1
        else:
            unexplained += 1
            print(f"{MOTO} {r.scenario.name}: ended {r.end.status} {r.end.error}: {r.end.cause}", file=sys.stderr)
    with Bridge() as bridge:
        for engine in [e for e in args.engines.split(",") if e]:
            runnable = [r for r in recordings if engine != NODE or r.scenario.machine == LOOP]
            ends = run_engine(engine, runnable, bridge)
            passed[engine] = 0
            for r in runnable:
                found = differences(r.scenario, r.end, ends[r.scenario.name])
                for difference in found:
                    print(json.dumps({"engine": engine, "scenario": r.scenario.name, **difference}), file=sys.stderr)
                unexplained += len(found)
                passed[engine] += not found
            if engine == NODE:
                divergences.append(RESULT_PATH_ROOT.report())
    print(json.dumps({"engines": passed, "divergences": divergences, "unexplained": unexplained}))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())

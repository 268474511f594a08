"""`python -m bench`: run the benchmark, print a table, write docs/performance.md, print the figures as JSON last.

python -m bench                  # the full run (`make bench`)
python -m bench --quick          # 6 prompts, 1 repeat, a 50-item batch: a look while developing
python -m bench --prompts 2 --repeats 1 --scale 0 --doc none
"""

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.settings import QUICK, Latency, Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 prompts, 1 repeat, a 50-item batch")
    parser.add_argument("--prompts", type=int, help="how many prompts (at most 20 distinct ones)")
    parser.add_argument("--repeats", type=int, help="executions of each prompt by each contender")
    parser.add_argument("--scale", type=float, help="model latency factor (0.1: 1:10; 0: no simulated latency)")
    parser.add_argument("--assembly", type=Path, help="a synthesized cloud assembly to use instead of synthesizing")
    parser.add_argument(
        "--doc", default="docs/performance.md", help="where to write the report ('none': do not write it)"
    )
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    if args.prompts:
        settings = replace(settings, prompts=args.prompts)
    if args.repeats:
        settings = replace(settings, repeats=args.repeats)
    if args.scale is not None:
        settings = replace(settings, latency=Latency(scale=args.scale))

    from bench.report import console_table, document
    from bench.run import dumps, figures, invariants, run_all
    from imgloop.local.assembly import synthesize

    def say(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    with tempfile.TemporaryDirectory(prefix="bench-cdk-") as scratch:
        assembly = args.assembly
        if assembly is None:
            say("synthesizing the CDK app")
            assembly = synthesize(Path(scratch) / "cdk.out")
        results = run_all(settings, assembly, say)
    values = figures(results)
    checks = invariants(results)
    print(console_table(results, values))
    if args.doc != "none":
        Path(args.doc).write_text(document(results, values, checks))
        print(f"\nwrote {args.doc}")
    sys.stdout.flush()
    print(dumps(values), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

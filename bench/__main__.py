"""`python -m bench`: run the benchmark, print a table, write its report, print the figures as JSON last.

python -m bench                  # the full run (`make bench`): rewrites the committed docs/performance.md
python -m bench --quick          # 6 prompts, 1 repeat, a 50-item batch: writes out/bench/performance.md
python -m bench --prompts 2 --repeats 1 --scale 0 --doc none

Only the full run writes docs/performance.md unless --doc names it: a run with --quick, --prompts, --repeats
or --scale measures something else, so its report goes to out/bench/performance.md (or where --doc says).
"""

import argparse
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from bench.settings import QUICK, Latency, Settings

# The committed report, which only the full run writes, and where any other run writes its own.
COMMITTED_DOC = Path("docs/performance.md")
SCRATCH_DOC = Path("out/bench/performance.md")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 prompts, 1 repeat, a 50-item batch")
    parser.add_argument("--prompts", type=int, help="how many prompts (at most 20 distinct ones)")
    parser.add_argument("--repeats", type=int, help="executions of each prompt by each contender")
    parser.add_argument("--scale", type=float, help="model latency factor (0.1: 1:10; 0: no simulated latency)")
    parser.add_argument("--assembly", type=Path, help="a synthesized cloud assembly to use instead of synthesizing")
    parser.add_argument(
        "--doc",
        help=f"where to write the report ('none': do not write it); default {COMMITTED_DOC} for the full run, "
        f"{SCRATCH_DOC} for any other (--quick, --prompts, --repeats, --scale)",
    )
    return parser.parse_args(argv)


def report_path(args: argparse.Namespace) -> Path | None:
    """Where this run writes its report: None for --doc none; the committed doc only for the full run."""
    if args.doc == "none":
        return None
    if args.doc:
        return Path(args.doc)
    partial = args.quick or args.prompts or args.repeats or args.scale is not None
    return SCRATCH_DOC if partial else COMMITTED_DOC


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    doc = report_path(args)
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
    if doc is None:
        print("\nwrote no report (--doc none)")
    else:
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(document(results, values, checks))
        note = "" if doc == COMMITTED_DOC else f" (not {COMMITTED_DOC}: only the full run writes it, or --doc)"
        print(f"\nwrote {doc}{note}")
    sys.stdout.flush()
    print(dumps(values), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

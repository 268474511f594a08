"""`imgloop run` and `start`: a run of the workflow, on this machine (--local) or on the deployed stack, and
`imgloop report`: one HTML page of a run's images."""

import argparse
import json
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from common.names import EXECUTION_FILE, MANIFEST_FILE
from imgloop.cli.deployed import add_start_options, fetched, start_on_aws
from imgloop.cli.options import (
    SCENARIO_FLAGS,
    add_image_options,
    add_scenario_options,
    local_assembly,
    scenario,
    writable_file,
    writable_folder,
)
from imgloop.cli.spend import add_cost_option, announce, capped_event
from imgloop.errors import Command, Interrupted, UsageError, asking_aws
from imgloop.runs.executions import EXTENSIONS, REPORT_FILE, new_name
from imgloop.runs.progress import describe_event

# The options of a local run that mean nothing to an execution on AWS, as (attribute, flag).
_LOCAL_ONLY = (
    ("out", "--out"),
    ("replace", "--replace"),
    *SCENARIO_FLAGS,
    ("json", "--json"),
    ("verbose", "--verbose"),
)


def add_commands(commands: Any) -> dict[str, Command]:
    """Add the parsers of `run`, `start` and `report`; returns the function that runs each."""
    run = commands.add_parser("run", help="run the workflow on an input event")
    run.add_argument(
        "--local", action="store_true", help="run on this machine: moto + a Bedrock stand-in, no AWS account"
    )
    run.add_argument("--input", required=True, type=Path, help="the input event (JSON file)")
    run.add_argument("--name", type=_execution_name, help="execution name (default: imgloop-<time>-<random>)")
    add_image_options(run)
    add_cost_option(run)
    _add_local_options(run)
    begin = commands.add_parser("start", help="start an execution of the deployed stack")
    begin.add_argument("--input", required=True, type=Path, help="the input event (JSON file)")
    begin.add_argument("--name", help="execution name (default: the event's idempotency_key, else generated)")
    add_image_options(begin)
    add_cost_option(begin)
    begin.add_argument(
        "--local", action="store_true", help="start it on the local runner instead (the same as `run --local`)"
    )
    add_start_options(begin)
    _add_local_options(begin)
    report = commands.add_parser("report", help="write one self-contained HTML page showing a run's images")
    report.add_argument("execution_arn", nargs="?", help="an execution of the deployed stack (fetched first)")
    report.add_argument("--local-run", type=Path, metavar="DIR", help="a run's folder, or the --out folder holding it")
    report.add_argument("--region", help="the execution's region (default: the one its ARN names)")
    report.add_argument(
        "--out",
        type=Path,
        metavar="FILE",
        help="the page to write (default: report.html in the run's folder with --local-run, else in this folder)",
    )
    return {"run": _run, "start": _start, "report": asking_aws(_report)}


def _execution_name(value: str) -> str:
    from common.keys import EXECUTION_NAME_PATTERN, EXECUTION_NAME_RULE

    if not re.match(EXECUTION_NAME_PATTERN, value):
        raise argparse.ArgumentTypeError(f"must be {EXECUTION_NAME_RULE}")
    return value


def _add_local_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="folder that gets the run's own folder of files (default: out)")
    parser.add_argument(
        "--replace", action="store_true", help="delete an earlier run's folder of the same --name in --out first"
    )
    add_scenario_options(parser)
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object {status, output, error, cause} at the end"
    )
    parser.add_argument("--verbose", action="store_true", help="show the functions' own logs")


def _start(args: argparse.Namespace) -> int:
    if args.local:
        # A local execution lives in this process only, so it is started, followed and fetched at once.
        return _run_local(args)
    given = [flag for name, flag in _LOCAL_ONLY if getattr(args, name)]
    if given:
        raise UsageError(f"{', '.join(given)}: only with --local (a local run); AWS runs are fetched with `fetch`")
    return asking_aws(start_on_aws)(args)


def _run(args: argparse.Namespace) -> int:
    if not args.local:
        raise UsageError(
            "`run` needs --local; to run on the deployed stack use "
            "`imgloop start --input EVENT.json --wait` (see docs/deploying.md)"
        )
    return _run_local(args)


def _free_folder(folder: Path, replace: bool) -> None:
    """Make sure the run's folder holds no earlier run: AWS, too, refuses an execution name used before."""
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not replace:
        raise UsageError(f"{folder} holds an earlier run named {folder.name}: choose another --name, or add --replace")
    if not any((folder / name).is_file() for name in (EXECUTION_FILE, MANIFEST_FILE)):
        raise UsageError(f"{folder} is not a run's folder (no {EXECUTION_FILE} or {MANIFEST_FILE}): not replacing it")
    shutil.rmtree(folder)


def _run_local(args: argparse.Namespace) -> int:
    from imgloop.local.runner import LocalRunner
    from imgloop.runs.uploads import naming, read_uploads

    out = writable_folder(args.out or Path("out"))
    event = capped_event(args)
    name = args.name or new_name()
    uploads = read_uploads(event, name, {"source_image": args.image, "mask_image": args.mask})
    _free_folder(out / name, args.replace)
    assembly = local_assembly(args)

    def show(history_event: dict[str, Any]) -> None:
        line = describe_event(history_event)
        if line and not args.json:
            print(line, flush=True)

    runner = LocalRunner(assembly, scenario(args))
    event = naming(event, runner.names.bucket, uploads)
    # The functions' warnings are notes the manifest keeps (a prompt shortened, a sampling setting not
    # sent); in the progress they would break the lines, so they show with --verbose only.
    log_level = "INFO" if args.verbose else "ERROR"
    folder = out / name
    announce([event], args.json)
    try:
        result = runner.run(event, name, out, on_event=show, log_level=log_level, uploads=uploads)
    except KeyboardInterrupt:
        images = sum(1 for path in folder.glob("*.*") if path.suffix[1:] in EXTENSIONS.values())
        raise Interrupted(
            f"interrupted: {images} image(s) and the manifest so far kept in {folder}/; a run does not resume: "
            "to run it again, give the same command with --replace"
        ) from None
    report = _write_report(folder)
    output = _on_disk(result.output, folder)
    if args.json:
        print(json.dumps({**result.summary(), "output": output}, ensure_ascii=False))
    else:
        print(f"\nexecution {name}: {result.status}")
        if output:
            print(json.dumps(output, indent=2, ensure_ascii=False))
        if result.error:
            print(f"error: {result.error}\ncause: {result.cause}")
        if runner.retry_waits:
            waits = ", ".join(f"{w:.1f}s" for w in runner.retry_waits)
            print(
                f"transient faults retried {len(runner.retry_waits)} time(s); backoff waits (skipped locally): {waits}"
            )
        print(f"files: {folder}/")
        if report is not None:
            print(f"report: {report}")
    return 0 if result.status == "SUCCEEDED" else 1


def _write_report(folder: Path) -> Path | None:
    """The run's report.html, in its folder; None when the run kept no record (its input was refused)."""
    from imgloop.runs.report import report_from_local_run

    if not (folder / MANIFEST_FILE).is_file():
        return None
    page = folder / REPORT_FILE
    page.write_text(report_from_local_run(folder), encoding="utf-8")
    return page


def _on_disk(output: dict[str, Any] | None, folder: Path) -> dict[str, Any] | None:
    """A local run's output as this machine has it: the image's file instead of the AWS console's pages,
    which know nothing of a bucket that lived in this process."""
    if output is None:
        return None
    shown = {key: value for key, value in output.items() if not key.endswith("_console_url")}
    key = output.get("key")
    if isinstance(key, str) and (folder / PurePosixPath(key).name).is_file():
        shown["file"] = str(folder / PurePosixPath(key).name)
    return shown


def _report(args: argparse.Namespace) -> int:
    from imgloop.runs.report import find_run, report_from_local_run

    if (args.local_run is None) == (args.execution_arn is None):
        raise UsageError("report: say which run: an EXECUTION_ARN or --local-run DIR")
    if args.out is not None:
        writable_file(args.out)
    where = args.local_run
    if args.execution_arn:
        folder = Path(tempfile.mkdtemp(prefix="imgloop-"))
        execution, _ = fetched(args.execution_arn, args.region, folder)
        where = folder / execution.name
    try:
        run = find_run(where)
        page = report_from_local_run(run)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the run in {where}: {error}") from None
    # A fetched run's folder is a temporary one: its page goes where the command runs.
    out = args.out or (run / REPORT_FILE if args.local_run else Path(REPORT_FILE))
    out.write_text(page, encoding="utf-8")
    print(f"report: {out}")
    return 0

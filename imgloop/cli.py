"""The `imgloop` command.

Exit codes: 0 the run succeeded (or the command did what it was asked), 1 the run failed or a model
check did not pass, 2 the command could not do its work (a bad option or file, no AWS region or
credentials, AWS refused the call); then one line on stderr says why and what to do.

`batch` and `batch-status`: 0 when the batch ran and every item it ran succeeded (an item skipped
because it succeeded before counts as succeeded; a batch still running, as `batch-status` without
--wait tells it, is 0 too), 1 when any item failed or the batch itself failed (imgloop.batch_outcome).
"""

import argparse
import json
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from imgloop.assembly import synthesize
from imgloop.batch_cli import add_commands as add_batch_commands
from imgloop.executions import new_name
from imgloop.options import SCENARIO_FLAGS, add_scenario_options, scenario
from imgloop.progress import describe_event
from imgloop.remote import Command, UsageError, add_image_options, asking_aws, aws_session, fetched, read_event
from imgloop.remote import add_commands as add_remote_commands
from infra.constants import STACK_NAME

# The options of a local run that mean nothing to an execution on AWS, as (attribute, flag).
_LOCAL_ONLY = (
    ("out", "--out"),
    ("replace", "--replace"),
    *SCENARIO_FLAGS,
    ("json", "--json"),
    ("verbose", "--verbose"),
)


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


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(prog="imgloop", description="Generate images that meet a written requirement.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the workflow on an input event")
    run.add_argument(
        "--local", action="store_true", help="run on this machine: moto + a Bedrock stand-in, no AWS account"
    )
    run.add_argument("--input", required=True, type=Path, help="the input event (JSON file)")
    run.add_argument("--name", type=_execution_name, help="execution name (default: imgloop-<time>-<random>)")
    add_image_options(run)
    _add_local_options(run)
    check = commands.add_parser("check-models", help="ask Bedrock whether the configured models are still served")
    check.add_argument("--input", type=Path, help="also check the models this input event names")
    check.add_argument("--region", help="the Bedrock region (default: AWS_REGION or your profile's)")
    report = commands.add_parser("report", help="write one self-contained HTML page showing a run's images")
    report.add_argument("execution_arn", nargs="?", help="an execution of the deployed stack (fetched first)")
    report.add_argument("--local-run", type=Path, metavar="DIR", help="a run's folder, or the --out folder holding it")
    report.add_argument("--region", help="the execution's region (default: the one its ARN names)")
    report.add_argument(
        "--out", type=Path, default=Path("report.html"), metavar="FILE", help="the page to write (default: report.html)"
    )
    remote = add_remote_commands(commands)
    _add_local_options(commands.choices["start"])

    def begin(args: argparse.Namespace) -> int:
        if args.local:
            # A local execution lives in this process only, so it is started, followed and fetched at once.
            return _run_local(args)
        given = [flag for name, flag in _LOCAL_ONLY if getattr(args, name)]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --local (a local run); AWS runs are fetched with `fetch`")
        return asking_aws(remote["start"])(args)

    batches = add_batch_commands(commands, _assembly)
    return parser, {
        **batches,
        "watch": asking_aws(remote["watch"]),
        "fetch": asking_aws(remote["fetch"]),
        "start": begin,
        "run": _run,
        "check-models": asking_aws(_check_models),
        "report": asking_aws(_report),
    }


def _check_models(args: argparse.Namespace) -> int:
    from common.errors import InvalidInput
    from imgloop.preflight import check_models, conclusion

    bedrock = aws_session(args.region).client("bedrock")
    try:
        models = configured_models(args.input)
    except (OSError, ValueError, InvalidInput) as error:
        raise UsageError(str(error)) from None
    checks = check_models(bedrock, models)
    for check in checks:
        print(check.line)
    code, closing = conclusion(checks)
    if closing:
        print(closing, file=sys.stderr if code else sys.stdout)
    return code


def configured_models(event_path: Path | None) -> dict[str, str]:
    """The deployment's default models (cdk.json), or those an input event names, as written: a
    retired one is what check-models is for (the run itself would replace it)."""
    from common.request import read_request
    from common.settings import Settings
    from infra.app import project_context

    context = project_context()
    settings = Settings(
        output_bucket="any-bucket",
        region="",
        generator_model_id=context["imgloop:generator_model_id"],
        validator_model_id=context["imgloop:validator_model_id"],
        reviser_model_id=context["imgloop:reviser_model_id"],
    )
    raw = json.loads(event_path.read_text(encoding="utf-8")) if event_path else {"prompt": "check"}
    if isinstance(raw, dict):
        raw = {k: v for k, v in raw.items() if not k.startswith("output")}
    request = read_request(raw, settings)
    return {
        "generator": request.generator.model_id,
        "validator": request.validator.model_id,
        "reviser": request.reviser.model_id,
    }


def _run(args: argparse.Namespace) -> int:
    if not args.local:
        raise UsageError(
            "`run` needs --local; to run on the deployed stack use "
            "`imgloop start --input EVENT.json --wait` (see README)"
        )
    return _run_local(args)


def _free_folder(folder: Path, replace: bool) -> None:
    """Make sure the run's folder holds no earlier run: AWS, too, refuses an execution name used before."""
    if not folder.is_dir() or not any(folder.iterdir()):
        return
    if not replace:
        raise UsageError(f"{folder} holds an earlier run named {folder.name}: choose another --name, or add --replace")
    if not any((folder / name).is_file() for name in ("execution.json", "manifest.json")):
        raise UsageError(f"{folder} is not a run's folder (no execution.json or manifest.json): not replacing it")
    shutil.rmtree(folder)


def _assembly(args: argparse.Namespace) -> Path:
    if args.assembly is None:
        if not args.json:
            print("synthesizing the CDK app ...", file=sys.stderr)
        return synthesize()
    if not (args.assembly / f"{STACK_NAME}.template.json").is_file():
        raise UsageError(
            f"--assembly {args.assembly}: no synthesized {STACK_NAME} stack there ({STACK_NAME}.template.json); "
            "make one with `make synth` (it writes cdk.out), or leave out --assembly"
        )
    return Path(args.assembly)


def _run_local(args: argparse.Namespace) -> int:
    from imgloop.local import LocalRunner
    from imgloop.uploads import naming, read_uploads

    event = read_event(args.input)
    out = args.out or Path("out")
    name = args.name or new_name()
    uploads = read_uploads(event, name, {"source_image": args.image, "mask_image": args.mask})
    _free_folder(out / name, args.replace)
    assembly = _assembly(args)

    def show(history_event: dict[str, Any]) -> None:
        line = describe_event(history_event)
        if line and not args.json:
            print(line, flush=True)

    runner = LocalRunner(assembly, scenario(args))
    event = naming(event, runner.names.bucket, uploads)
    # The functions' warnings are notes the manifest keeps (a prompt shortened, a sampling setting not
    # sent); in the progress they would break the lines, so they show with --verbose only.
    log_level = "INFO" if args.verbose else "ERROR"
    result = runner.run(event, name, out, on_event=show, log_level=log_level, uploads=uploads)
    if args.json:
        print(json.dumps(result.summary(), ensure_ascii=False))
    else:
        print(f"\nexecution {name}: {result.status}")
        if result.output:
            print(json.dumps(result.output, indent=2, ensure_ascii=False))
        if result.error:
            print(f"error: {result.error}\ncause: {result.cause}")
        if runner.retry_waits:
            waits = ", ".join(f"{w:.1f}s" for w in runner.retry_waits)
            print(
                f"transient faults retried {len(runner.retry_waits)} time(s); backoff waits (skipped locally): {waits}"
            )
        print(f"files: {out / name}/")
    return 0 if result.status == "SUCCEEDED" else 1


def _report(args: argparse.Namespace) -> int:
    from imgloop.report import find_run, report_from_local_run

    if (args.local_run is None) == (args.execution_arn is None):
        raise UsageError("report: say which run: an EXECUTION_ARN or --local-run DIR")
    where = args.local_run
    if args.execution_arn:
        folder = Path(tempfile.mkdtemp(prefix="imgloop-"))
        execution, _ = fetched(args.execution_arn, args.region, folder)
        where = folder / execution.name
    try:
        page = report_from_local_run(find_run(where))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the run in {where}: {error}") from None
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"report: {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    try:
        return commands[args.command](args)
    except UsageError as error:
        print(f"imgloop: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

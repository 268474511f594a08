"""The `imgloop` command."""

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imgloop.assembly import synthesize
from imgloop.executions import new_name
from imgloop.progress import describe_event
from imgloop.remote import add_commands as add_remote_commands


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Callable[[argparse.Namespace], int]]]:
    parser = argparse.ArgumentParser(prog="imgloop", description="Generate images that meet a written requirement.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the workflow on an input event")
    run.add_argument(
        "--local", action="store_true", help="run on this machine: moto + a Bedrock stand-in, no AWS account"
    )
    run.add_argument("--input", required=True, type=Path, help="the input event (JSON file)")
    run.add_argument("--out", type=Path, default=Path("out"), help="folder for the images and manifest (default: out)")
    run.add_argument("--name", help="execution name (default: imgloop-<time>-<random>)")
    run.add_argument(
        "--reject-first", type=_count, default=0, metavar="K", help="the judge says no to the first K images"
    )
    run.add_argument(
        "--fail-generate-first", type=_count, default=0, metavar="K", help="the image model refuses its first K calls"
    )
    run.add_argument(
        "--throttle-first", type=_count, default=0, metavar="K", help="the first K Bedrock calls are throttled"
    )
    run.add_argument("--assembly", type=Path, help="use this synthesized cloud assembly instead of synthesizing anew")
    run.add_argument(
        "--json", action="store_true", help="print one JSON object {status, output, error, cause} at the end"
    )
    run.add_argument("--verbose", action="store_true", help="show the functions' own logs")
    check = commands.add_parser("check-models", help="ask Bedrock whether the configured models are still served")
    check.add_argument("--input", type=Path, help="also check the models this input event names")
    check.add_argument("--region", help="the Bedrock region (default: your AWS configuration's)")
    report = commands.add_parser("report", help="write one self-contained HTML page showing a run's images")
    report.add_argument("execution_arn", nargs="?", help="an execution of the deployed stack (fetched first)")
    report.add_argument("--local-run", type=Path, metavar="DIR", help="the folder a local or fetched run left")
    report.add_argument("--region", help="the execution's region (default: your AWS configuration's)")
    report.add_argument(
        "--out", type=Path, default=Path("report.html"), metavar="FILE", help="the page to write (default: report.html)"
    )
    return parser, add_remote_commands(commands)


def _check_models(args: argparse.Namespace) -> int:
    import boto3

    from common.errors import InvalidInput
    from imgloop.preflight import check_models

    try:
        models = configured_models(args.input)
    except (OSError, ValueError, InvalidInput) as error:
        print(f"imgloop: {error}", file=sys.stderr)
        return 2
    checks = check_models(boto3.client("bedrock", region_name=args.region), models)
    for check in checks:
        print(check.line)
    if any(c.status == "UNAVAILABLE" for c in checks):
        return 1
    return 0


def configured_models(event_path: Path | None) -> dict[str, str]:
    """The deployment's default models (cdk.json), or those an input event resolves to."""
    from common.request import parse_request
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
    request = parse_request(raw, settings)
    return {
        "generator": request.generator.model_id,
        "validator": request.validator.model_id,
        "reviser": request.reviser.model_id,
    }


def _run_local(args: argparse.Namespace) -> int:
    from imgloop.local import LocalRunner
    from imgloop.standin import Scenario

    try:
        event: Any = json.loads(args.input.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        print(f"imgloop: cannot read {args.input}: {error}", file=sys.stderr)
        return 2
    assembly = args.assembly
    if assembly is None:
        if not args.json:
            print("synthesizing the CDK app ...", file=sys.stderr)
        assembly = synthesize()
    scenario = Scenario(
        reject_first=args.reject_first, fail_generate_first=args.fail_generate_first, throttle_first=args.throttle_first
    )
    name = args.name or new_name()

    def show(history_event: dict[str, Any]) -> None:
        line = describe_event(history_event)
        if line and not args.json:
            print(line, flush=True)

    runner = LocalRunner(assembly, scenario)
    result = runner.run(event, name, args.out, on_event=show, log_level="INFO" if args.verbose else "WARNING")
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
        print(f"files: {args.out / name}/")
    return 0 if result.status == "SUCCEEDED" else 1


def _report(args: argparse.Namespace) -> int:
    from imgloop.report import report_from_local_run

    if (args.local_run is None) == (args.execution_arn is None):
        print("imgloop report: say which run: an EXECUTION_ARN or --local-run DIR", file=sys.stderr)
        return 2
    if args.execution_arn:
        args.local_run = _fetched(args.execution_arn, args.region, Path(tempfile.mkdtemp(prefix="imgloop-")))
    try:
        page = report_from_local_run(args.local_run)
    except (OSError, ValueError) as error:
        print(f"imgloop: cannot read the run in {args.local_run}: {error}", file=sys.stderr)
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(page, encoding="utf-8")
    print(f"report: {args.out}")
    return 0


def _fetched(execution_arn: str, region: str | None, folder: Path) -> Path:
    import boto3

    from imgloop.executions import described, fetch, history

    session = boto3.session.Session(region_name=region)
    sfn = session.client("stepfunctions")
    execution = described(sfn, execution_arn, history(sfn, execution_arn))
    fetch(session.client("s3"), execution, folder)
    return folder / execution.name


def main(argv: list[str] | None = None) -> int:
    parser, remote = _parser()
    args = parser.parse_args(argv)
    if args.command == "start" and args.local:
        # A local execution lives in this process only, so it is started, followed and fetched at once.
        return main(["run", "--local", "--input", str(args.input), *(["--name", args.name] if args.name else [])])
    if args.command in remote:
        return remote[args.command](args)
    if args.command == "check-models":
        return _check_models(args)
    if args.command == "report":
        return _report(args)
    if args.command == "run" and not args.local:
        print(
            "imgloop: `run` needs --local; to run on the deployed stack use `imgloop start --input EVENT.json "
            "--wait` (see README)",
            file=sys.stderr,
        )
        return 2
    return _run_local(args)


if __name__ == "__main__":
    sys.exit(main())

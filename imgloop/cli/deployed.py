"""`imgloop start` (on AWS), `watch` and `fetch`: the deployed stack, found from its CloudFormation outputs."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from common.names import STACK_NAME, Outputs
from imgloop.aws import aws_session, deployed_outputs
from imgloop.cli.options import writable_folder
from imgloop.cli.spend import announce, capped_event
from imgloop.errors import Command, Interrupted, asking_aws
from imgloop.runs.executions import Execution, described, execution_name, fetch, follow, history, start
from imgloop.runs.progress import describe_event
from imgloop.runs.uploads import naming, put_uploads, read_uploads


def add_start_options(begin: argparse.ArgumentParser) -> None:
    """The options of `start` that find the deployed stack and follow the execution."""
    begin.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    begin.add_argument("--stack", default=STACK_NAME, help=f"the deployed stack's name (default: {STACK_NAME})")
    begin.add_argument("--region", help="the stack's region (default: AWS_REGION or your profile's)")


def add_commands(commands: Any) -> dict[str, Command]:
    """Add the parsers of `watch` and `fetch`; returns the function that runs each."""
    watch = commands.add_parser("watch", help="follow an execution live from its history")
    watch.add_argument("execution_arn")
    get = commands.add_parser("fetch", help="download an execution's images and manifest")
    get.add_argument("execution_arn")
    get.add_argument("--out", type=Path, default=Path("out"), help="folder to write into (default: out)")
    for parser in (watch, get):
        parser.add_argument("--region", help="the execution's region (default: the one its ARN names)")
    return {"watch": asking_aws(_watch), "fetch": asking_aws(_fetch)}


def _print_line(event: dict[str, Any]) -> None:
    line = describe_event(event)
    if line:
        print(line, flush=True)


def _report(execution: Execution) -> int:
    print(json.dumps(execution.summary(), indent=2, ensure_ascii=False))
    return 0 if execution.status == "SUCCEEDED" else 1


def start_on_aws(args: argparse.Namespace) -> int:
    """`start` without --local: the event (and an edit's files) sent to the deployed stack."""
    event = capped_event(args)
    name = execution_name(event, args.name)
    # The files are checked before AWS is asked anything, and sent before the run that reads them starts.
    uploads = read_uploads(event, name, {"source_image": args.image, "mask_image": args.mask})
    session = aws_session(args.region)
    outputs = deployed_outputs(session, args.stack, Outputs.STATE_MACHINE, *([Outputs.BUCKET] if uploads else []))
    if uploads:
        put_uploads(session.client("s3"), outputs[Outputs.BUCKET], uploads)
        event = naming(event, outputs[Outputs.BUCKET], uploads)
    sfn = session.client("stepfunctions")
    announce([event], json_mode=False)
    arn = start(sfn, outputs[Outputs.STATE_MACHINE], event, name)
    print(arn, flush=True)
    if not args.wait:
        return 0
    return _report(_following(sfn, arn))


def _watch(args: argparse.Namespace) -> int:

    sfn = aws_session(args.region, args.execution_arn).client("stepfunctions")
    return _report(_following(sfn, args.execution_arn))


def _following(sfn: Any, arn: str) -> Execution:
    """The execution followed to its end; Ctrl-C stops following, not the execution."""
    from imgloop.runs.live import RunDisplay

    display = RunDisplay(sys.stdout)
    try:
        return follow(sfn, arn, display)
    except KeyboardInterrupt:
        raise Interrupted(
            f"stopped following; the execution goes on in AWS: imgloop watch {arn} (or fetch it when it ends)"
        ) from None
    finally:
        display.close()


def fetched(execution_arn: str, region: str | None, out_dir: Path) -> tuple[Execution, list[Path]]:
    """The execution as it stands, with its files copied into out_dir/<execution name>."""
    session = aws_session(region, execution_arn)
    sfn = session.client("stepfunctions")
    execution = described(sfn, execution_arn, history(sfn, execution_arn))
    return execution, fetch(session.client("s3"), execution, out_dir)


def _fetch(args: argparse.Namespace) -> int:
    execution, files = fetched(args.execution_arn, args.region, writable_folder(args.out))
    for path in files:
        print(path)
    if execution.status == "RUNNING":
        print("the execution is still running: fetched what it has made so far", file=sys.stderr)
    return 0

"""`imgloop start`, `watch` and `fetch`: the deployed stack, found from its CloudFormation outputs."""

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from imgloop.executions import Execution, described, fetch, follow, history, stack_outputs, start
from imgloop.progress import describe_event
from infra.constants import STACK_NAME


def add_commands(commands: Any) -> dict[str, Callable[[argparse.Namespace], int]]:
    """Add the commands' parsers; returns the function that runs each."""
    begin = commands.add_parser("start", help="start an execution of the deployed stack")
    begin.add_argument("--input", required=True, type=Path, help="the input event (JSON file)")
    begin.add_argument("--name", help="execution name (default: the event's idempotency_key, else generated)")
    begin.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    begin.add_argument(
        "--local", action="store_true", help="start it on the local runner instead (the same as `run --local`)"
    )
    watch = commands.add_parser("watch", help="follow an execution live from its history")
    watch.add_argument("execution_arn")
    get = commands.add_parser("fetch", help="download an execution's images and manifest")
    get.add_argument("execution_arn")
    get.add_argument("--out", type=Path, default=Path("out"), help="folder to write into (default: out)")
    for parser in (begin, watch, get):
        parser.add_argument("--stack", default=STACK_NAME, help=f"the deployed stack's name (default: {STACK_NAME})")
        parser.add_argument("--region", help="the stack's region (default: your AWS configuration's)")
    return {"start": _start, "watch": _watch, "fetch": _fetch}


def _clients(args: argparse.Namespace) -> tuple[Any, Any]:
    import boto3

    session = boto3.session.Session(region_name=args.region)
    return session.client("stepfunctions"), session.client("s3")


def _print_line(event: dict[str, Any]) -> None:
    line = describe_event(event)
    if line:
        print(line, flush=True)


def _report(execution: Execution) -> int:
    print(json.dumps(execution.summary(), indent=2, ensure_ascii=False))
    return 0 if execution.status == "SUCCEEDED" else 1


def _start(args: argparse.Namespace) -> int:
    import boto3

    event = json.loads(args.input.read_text(encoding="utf-8"))
    machine = stack_outputs(boto3.client("cloudformation", region_name=args.region), args.stack)["StateMachineArn"]
    sfn, _ = _clients(args)
    arn = start(sfn, machine, event, args.name)
    print(arn, flush=True)
    if not args.wait:
        return 0
    return _report(follow(sfn, arn, _print_line))


def _watch(args: argparse.Namespace) -> int:
    sfn, _ = _clients(args)
    return _report(follow(sfn, args.execution_arn, _print_line))


def _fetch(args: argparse.Namespace) -> int:
    sfn, s3 = _clients(args)
    execution = described(sfn, args.execution_arn, history(sfn, args.execution_arn))
    files = fetch(s3, execution, args.out)
    for path in files:
        print(path)
    if execution.status == "RUNNING":
        print("the execution is still running: fetched what it has made so far", file=sys.stderr)
    return 0

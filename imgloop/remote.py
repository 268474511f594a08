"""`imgloop start`, `watch` and `fetch`: the deployed stack, found from its CloudFormation outputs."""

import argparse
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from imgloop.executions import Execution, described, execution_name, fetch, follow, history, stack_outputs, start
from imgloop.progress import describe_event
from infra.constants import STACK_NAME

NO_REGION = (
    "no AWS region: pass --region (e.g. --region us-west-2), set AWS_REGION, "
    "or set a region in your profile with `aws configure`"
)
NO_CREDENTIALS = (
    "no AWS credentials: run `aws configure` (or `aws sso login --profile NAME` and set AWS_PROFILE=NAME), "
    "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


Command = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """The command cannot do its work; the message says what is missing or wrong and how to fix it."""


def asking_aws(command: Command) -> Command:
    """The command, with AWS's refusals (expired credentials, access denied, no endpoint) as one line."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (BotoCoreError, ClientError) as error:
            raise UsageError(f"AWS refused or could not be reached: {error}") from None

    return run


def arn_region(arn: str) -> str:
    """The region of an execution ARN: arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME."""
    parts = arn.split(":")
    if len(parts) != 8 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "execution" or not parts[3]:
        raise UsageError(f"not an execution ARN: {arn!r} (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)")
    return parts[3]


def aws_session(region: str | None, arn: str | None = None) -> Any:
    """A boto3 session with a region and credentials, or a UsageError naming what is missing.

    An execution lives in the region its ARN names, so --region, if given, has to agree with it.
    """
    import boto3

    if arn:
        home = arn_region(arn)
        if region and region != home:
            raise UsageError(f"--region {region}, but the execution's ARN is in {home}")
        region = home
    # boto3 reads AWS_DEFAULT_REGION but not AWS_REGION, the name Lambda and the AWS CLI v2 also use.
    session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    if not session.region_name:
        raise UsageError(NO_REGION)
    if session.get_credentials() is None:
        raise UsageError(NO_CREDENTIALS)
    return session


def add_image_options(parser: argparse.ArgumentParser) -> None:
    """The local files an edit starts from: uploaded to the stack's bucket and named in the event."""
    parser.add_argument(
        "--image", type=Path, metavar="FILE", help="the image to edit (PNG, JPEG or WebP): fills source_image"
    )
    parser.add_argument(
        "--mask", type=Path, metavar="FILE", help="the edit's mask, white where it may change: fills mask_image"
    )


def add_commands(commands: Any) -> dict[str, Command]:
    """Add the commands' parsers; returns the function that runs each."""
    begin = commands.add_parser("start", help="start an execution of the deployed stack")
    begin.add_argument("--input", required=True, type=Path, help="the input event (JSON file)")
    begin.add_argument("--name", help="execution name (default: the event's idempotency_key, else generated)")
    add_image_options(begin)
    begin.add_argument("--wait", action="store_true", help="follow the execution until it ends")
    begin.add_argument(
        "--local", action="store_true", help="start it on the local runner instead (the same as `run --local`)"
    )
    watch = commands.add_parser("watch", help="follow an execution live from its history")
    watch.add_argument("execution_arn")
    get = commands.add_parser("fetch", help="download an execution's images and manifest")
    get.add_argument("execution_arn")
    get.add_argument("--out", type=Path, default=Path("out"), help="folder to write into (default: out)")
    begin.add_argument("--stack", default=STACK_NAME, help=f"the deployed stack's name (default: {STACK_NAME})")
    begin.add_argument("--region", help="the stack's region (default: AWS_REGION or your profile's)")
    for parser in (watch, get):
        parser.add_argument("--region", help="the execution's region (default: the one its ARN names)")
    return {"start": _start, "watch": _watch, "fetch": _fetch}


def _print_line(event: dict[str, Any]) -> None:
    line = describe_event(event)
    if line:
        print(line, flush=True)


def _report(execution: Execution) -> int:
    print(json.dumps(execution.summary(), indent=2, ensure_ascii=False))
    return 0 if execution.status == "SUCCEEDED" else 1


def read_event(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None


def deployed_outputs(session: Any, stack: str) -> dict[str, str]:
    """The deployed stack's CloudFormation outputs, or a UsageError saying there is no such stack."""
    try:
        return stack_outputs(session.client("cloudformation"), stack)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        raise UsageError(
            f"no stack {stack} in {session.region_name}: deploy it first (README: Deploying and starting "
            "runs), or pass --stack / --region"
        ) from None


def _start(args: argparse.Namespace) -> int:
    from imgloop.uploads import naming, put_uploads, read_uploads

    event = read_event(args.input)
    name = execution_name(event, args.name)
    # The files are checked before AWS is asked anything, and sent before the run that reads them starts.
    uploads = read_uploads(event, name, {"source_image": args.image, "mask_image": args.mask})
    session = aws_session(args.region)
    outputs = deployed_outputs(session, args.stack)
    if uploads:
        put_uploads(session.client("s3"), outputs["BucketName"], uploads)
        event = naming(event, outputs["BucketName"], uploads)
    sfn = session.client("stepfunctions")
    arn = start(sfn, outputs["StateMachineArn"], event, name)
    print(arn, flush=True)
    if not args.wait:
        return 0
    return _report(follow(sfn, arn, _print_line))


def _watch(args: argparse.Namespace) -> int:
    sfn = aws_session(args.region, args.execution_arn).client("stepfunctions")
    return _report(follow(sfn, args.execution_arn, _print_line))


def fetched(execution_arn: str, region: str | None, out_dir: Path) -> tuple[Execution, list[Path]]:
    """The execution as it stands, with its files copied into out_dir/<execution name>."""
    session = aws_session(region, execution_arn)
    sfn = session.client("stepfunctions")
    execution = described(sfn, execution_arn, history(sfn, execution_arn))
    return execution, fetch(session.client("s3"), execution, out_dir)


def _fetch(args: argparse.Namespace) -> int:
    execution, files = fetched(args.execution_arn, args.region, args.out)
    for path in files:
        print(path)
    if execution.status == "RUNNING":
        print("the execution is still running: fetched what it has made so far", file=sys.stderr)
    return 0

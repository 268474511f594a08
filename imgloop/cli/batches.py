"""`imgloop batch` and `imgloop batch-status`: run the image loop on every item of a file, follow the
batch, and fetch what it made, with a report per item and one for the batch.

`batch` uploads the file unchanged to batches/<name>/input.<ext> in the stack's bucket (locally, the local
account's), starts the batch state machine and follows it to its end; `batch-status` looks at a deployed
batch execution, once or (--wait) to its end. Both fetch into OUT/<batch>/ (imgloop.batch.folder).

Execution names: a batch's first execution is named after the batch; a later one (a re-run, which skips
the items that succeeded before) after the batch and the UTC time, <batch>-YYYYMMDDTHHMMSSZ. Locally
each invocation is a new account, so the batch's state is kept in OUT/<batch>/ and put back first.

Exit codes: see imgloop.batch.outcome; 2 and one line on stderr when the command could not start.
"""

import argparse
import json
import shutil
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.names import EXECUTION_FILE, MANIFEST_FILE, STACK_NAME, Outputs
from imgloop.aws import aws_session, deployed_outputs
from imgloop.cli.options import SCENARIO_FLAGS, add_scenario_options, local_assembly, scenario, writable_folder
from imgloop.cli.spend import add_cost_option, announce, batch_requests
from imgloop.errors import Command, Interrupted, UsageError, asking_aws

# The batch modules load pydantic models, jinja2 and PIL: imported when a batch command runs, so the
# other commands start as fast as before.
if TYPE_CHECKING:
    from imgloop.batch.outcome import BatchOutcome
    from imgloop.batch.source import BatchSource

# A deployed batch is looked at this often; each look lists the batch's records and reads the new ones.
POLL_SECONDS = 5.0
_LOCAL_POLL_SECONDS = 0.2
_LOCAL_ONLY = (("replace", "--replace"), *SCENARIO_FLAGS, ("verbose", "--verbose"))


def add_commands(commands: Any) -> dict[str, Command]:
    """Add the batch commands' parsers; returns the function that runs each."""
    batch = commands.add_parser("batch", help="run the workflow on every item of a file (jsonl, csv, txt, json)")
    batch.add_argument("--input", required=True, type=Path, metavar="FILE", help="the items, one per line or row")
    batch.add_argument(
        "--format", help="how the items are written (jsonl, csv, text or json), when the file's extension does not say"
    )
    batch.add_argument(
        "--defaults", type=Path, metavar="FILE", help="a JSON object of request fields every item starts from"
    )
    batch.add_argument(
        "--name",
        help="the batch's name (default: imgloop-<time>-<random>); run it again under the same name to re-run "
        "the items that did not succeed",
    )
    batch.add_argument("--concurrency", type=int, metavar="N", help="items run at once (default: the stack's)")
    add_cost_option(batch, "the whole batch's")
    batch.add_argument(
        "--local", action="store_true", help="run on this machine: moto + a Bedrock stand-in, no AWS account"
    )
    _add_result_options(batch, Path("out"))
    batch.add_argument("--stack", default=STACK_NAME, help=f"the deployed stack's name (default: {STACK_NAME})")
    batch.add_argument("--region", help="the stack's region (default: AWS_REGION or your profile's)")
    batch.add_argument(
        "--replace",
        action="store_true",
        help="with --local: delete the batch's folder in --out first, so the batch starts afresh (nothing skipped)",
    )
    add_scenario_options(batch)
    batch.add_argument("--verbose", action="store_true", help="with --local: show the functions' own logs")

    status = commands.add_parser("batch-status", help="how a deployed batch is doing; with --out, fetch its results")
    status.add_argument("execution_arn", help="the batch execution's ARN")
    status.add_argument("--region", help="the execution's region (default: the one its ARN names)")
    status.add_argument("--wait", action="store_true", help="follow the batch until it ends")
    _add_result_options(status, None)

    def run_batch(args: argparse.Namespace) -> int:
        from imgloop.batch.source import read_source

        writable_folder(args.out)
        source = replace(
            read_source(args.input, args.format, args.defaults, args.name, args.concurrency), max_cost_usd=args.max_cost
        )
        if args.local:
            return _finish(args, _local(args, source))
        given = [flag for name, flag in _LOCAL_ONLY if getattr(args, name)]
        if given:
            raise UsageError(f"{', '.join(given)}: only with --local (a local batch)")
        return asking_aws(lambda a: _finish(a, _deployed(a, source)))(args)

    return {"batch": run_batch, "batch-status": asking_aws(_status)}


def _add_result_options(parser: argparse.ArgumentParser, out: Path | None) -> None:
    parser.add_argument(
        "--out",
        type=Path,
        default=out,
        metavar="DIR",
        help="fetch into DIR/<batch>: the manifest, each item's images and report, the batch report"
        + (f" (default: {out})" if out else ""),
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="no progress; print one JSON object {status, items, succeeded, failed, skipped, images, manifest, "
        "report, error, cause, ...} at the end",
    )


def _local(args: argparse.Namespace, source: "BatchSource") -> "BatchOutcome":
    import boto3

    from imgloop.batch.folder import earlier_state
    from imgloop.batch.source import rerun_name
    from imgloop.local.assembly import LocalNames
    from imgloop.local.runner import LocalRunner

    folder = args.out / source.name
    _check_folder(folder, args.replace)
    names = LocalNames()
    try:
        earlier = earlier_state(folder, source.name, names.bucket)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read the earlier state of batch {source.name} in {folder}: {error}") from None
    runner = LocalRunner(local_assembly(args), scenario(args), names)
    outcomes: list[BatchOutcome] = []

    def watch(sfn: Any, arn: str) -> Any:
        # Inside the local account, which ends with the run: fetched before it does.
        s3 = boto3.client("s3")
        going_on = "run the same command again to go on (what finished is skipped)"
        outcomes.append(
            _follow(sfn, s3, arn, args, _LOCAL_POLL_SECONDS, going_on, on_look=runner.checkpoint, wait=True)
        )
        return outcomes[0].execution

    announce(batch_requests(source), args.json)
    runner.run_batch(
        source.request(names.bucket),
        rerun_name(source.name) if earlier else source.name,
        files=[(source.key, source.data), *earlier],
        watch=watch,
        # The functions' warnings are notes their records keep; in the progress they would break the line.
        log_level="INFO" if args.verbose else "ERROR",
    )
    return outcomes[0]


def _check_folder(folder: Path, replace: bool) -> None:
    """The batch's folder may hold only an earlier execution of the batch, which --replace deletes."""
    from imgloop.batch.folder import ITEMS, MANIFEST, SUMMARY

    if any((folder / name).is_file() for name in (MANIFEST_FILE, EXECUTION_FILE)):
        raise UsageError(f"{folder} holds a run, not a batch: choose another --name or --out")
    if not replace or not folder.is_dir():
        return
    if not any((folder / name).exists() for name in (ITEMS, MANIFEST, SUMMARY)) and any(folder.iterdir()):
        raise UsageError(f"{folder} is not a batch's folder (no {ITEMS}/, {MANIFEST} or {SUMMARY}): not replacing it")
    shutil.rmtree(folder)


def _deployed(args: argparse.Namespace, source: "BatchSource") -> "BatchOutcome":
    from imgloop.batch.source import start_batch

    session = aws_session(args.region)
    outputs = deployed_outputs(session, args.stack, Outputs.BUCKET, Outputs.BATCH_STATE_MACHINE)
    bucket = outputs[Outputs.BUCKET]
    s3, sfn = session.client("s3"), session.client("stepfunctions")
    s3.put_object(Bucket=bucket, Key=source.key, Body=source.data)
    announce(batch_requests(source), args.json)
    arn = start_batch(sfn, outputs[Outputs.BATCH_STATE_MACHINE], source, bucket)
    print(arn, file=sys.stderr if args.json else sys.stdout, flush=True)
    return _follow(sfn, s3, arn, args, POLL_SECONDS, _goes_on(arn, args.out), wait=True)


def _goes_on(arn: str, out: Path | None) -> str:
    """What a Ctrl-C while following a deployed batch leaves: the batch, and how to follow it again."""
    fetching = f" --out {out}" if out is not None else ""
    return f"the batch goes on in AWS; follow it again with: imgloop batch-status {arn} --wait{fetching}"


def _status(args: argparse.Namespace) -> int:
    if args.out is not None:
        writable_folder(args.out)
    session = aws_session(args.region, args.execution_arn)
    sfn, s3 = session.client("stepfunctions"), session.client("s3")
    going_on = _goes_on(args.execution_arn, args.out)
    return _finish(args, _follow(sfn, s3, args.execution_arn, args, POLL_SECONDS, going_on, wait=args.wait))


def _follow(
    sfn: Any,
    s3: Any,
    arn: str,
    args: argparse.Namespace,
    poll_seconds: float,
    going_on: str,
    wait: bool,
    on_look: Callable[[], None] | None = None,
) -> "BatchOutcome":
    """Follow the batch (or look once), then fetch it into --out and write its report, if --out is given.
    Each item is fetched as it ends; Ctrl-C ends the command with what was fetched and `going_on`."""
    from imgloop.batch.display import BatchDisplay
    from imgloop.batch.folder import KeptItems, fetch_batch
    from imgloop.batch.outcome import outcome_of
    from imgloop.batch.progress import READ_STATE, BatchFollower
    from imgloop.batch.report import PAGE, render_batch_report

    follower = BatchFollower(sfn, s3, arn)
    kept = KeptItems(s3, args.out) if args.out is not None else None

    def looked() -> None:
        if kept is not None and follower.opened is not None and follower.records is not None:
            kept.keep(follower.opened, follower.records)
        if on_look is not None:
            on_look()

    if wait:
        line = None if args.json else BatchDisplay(sys.stdout, follower)
        try:
            execution = follower.follow(line, poll_seconds, looked)
        except KeyboardInterrupt:
            where = f"{kept.count} finished item(s) kept in {args.out / follower.batch_name()}" if kept else "no --out"
            raise Interrupted(f"interrupted: {where}; {going_on}") from None
        finally:
            if line is not None:
                line.close()
    else:
        execution = follower.look()
    if execution.status == "SUCCEEDED" and follower.opened is None:
        raise UsageError(f"{arn} is not a batch execution: it has no {READ_STATE!r} state")
    fetched = None
    if args.out is not None and follower.opened is not None and follower.records is not None:
        fetched = fetch_batch(s3, follower.opened, follower.records, execution, args.out, kept)
    outcome = outcome_of(follower, execution, fetched)
    if fetched is None:
        return outcome
    page = fetched.folder / PAGE
    page.write_text(render_batch_report(outcome), encoding="utf-8")
    return replace(outcome, report=page)


def _finish(args: argparse.Namespace, outcome: "BatchOutcome") -> int:
    if args.json:
        print(json.dumps(outcome.as_json(), ensure_ascii=False))
    else:
        print("\n".join(outcome.lines()))
    return outcome.exit_code

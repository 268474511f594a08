"""Run the synthesized state machine on moto's Step Functions interpreter, with the real handlers
dispatched in-process, moto's S3 and the Bedrock stand-in. No AWS account, no Docker."""

import contextlib
import json
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
from botocore.exceptions import ClientError, ParamValidationError
from moto import mock_aws

from imgloop.local import serial_s3
from imgloop.local.assembly import LocalNames, load_workflow
from imgloop.local.functions import LocalLambdas, functions_environment
from imgloop.local.interrupts import DeferredInterrupt
from imgloop.local.standin.service import BedrockStandIn, Scenario
from imgloop.runs.executions import Execution, copy_objects, fetch, follow, run_folder, run_target, start
from imgloop.runs.uploads import Upload, put_uploads

_POLL_SECONDS = 0.05
# After Ctrl-C, the functions under way get this long to finish before the local account is closed.
_WIND_DOWN_SECONDS = 10.0
_LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
}


# The local runner's result is an Execution like any other.
RunResult = Execution
__all__ = ["LocalRunner", "RunResult", "run_folder"]


@contextmanager
def _recorded_retry_waits(waits: list[float], scale: float) -> Iterator[None]:
    """moto sleeps out each Retry interval; locally we record the interval and sleep it scaled (by default not
    at all; a stand-in whose quotas run on scaled time needs its retries to wait on the same clock)."""
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    def wait(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds * scale)

    original = vars(retrier_decl)["time"]
    setattr(retrier_decl, "time", SimpleNamespace(sleep=wait))  # noqa: B010 - not re-exported for mypy
    try:
        yield
    finally:
        setattr(retrier_decl, "time", original)  # noqa: B010


class LocalRunner:
    def __init__(self, assembly: Path, scenario: Scenario | None = None, names: LocalNames | None = None) -> None:
        self.names = names or LocalNames()
        self.workflow = load_workflow(assembly, self.names)
        self.standin = BedrockStandIn(scenario or Scenario())
        self.lambdas = LocalLambdas(self.workflow.functions)
        self.retry_waits: list[float] = []
        # Retry waits are slept at the stand-in's time scale when it enforces quotas, else not at all.
        self.retry_wait_scale = self.standin.scenario.quotas.wait_scale
        self.batch_machine_arn = self.names.batch_state_machine_arn
        # Called with the session's event system after the stand-ins, e.g. to inject faults.
        self.hooks: list[Callable[[Any], None]] = []
        self._interrupt = DeferredInterrupt()

    def checkpoint(self) -> None:
        """Raise KeyboardInterrupt here if Ctrl-C was pressed during the session (see imgloop.local.interrupts):
        whoever follows an execution calls this between looks."""
        self._interrupt.check()

    @contextmanager
    def session(
        self, event: Any = None, log_level: str = "WARNING", uploads: Sequence[Upload] = ()
    ) -> Iterator[tuple[Any, str]]:
        """A local account with the state machine created, and the images to edit uploaded to its bucket:
        yields its Step Functions client and ARN."""
        # moto logs every failed task at length; the history already says it all.
        logging.getLogger("moto").setLevel(logging.CRITICAL)
        # A task that raises (a throttled call, say) has no metrics to flush; that is expected here.
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        os.environ.update(_LOCAL_ENV)
        os.environ["AWS_DEFAULT_REGION"] = self.names.region
        self.lambdas.overrides["POWERTOOLS_LOG_LEVEL"] = log_level
        with (
            self._interrupt.deferring(),
            mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
            _recorded_retry_waits(self.retry_waits, self.retry_wait_scale),
            functions_environment(),
        ):
            boto3.setup_default_session(region_name=self.names.region)
            assert boto3.DEFAULT_SESSION is not None
            self.standin.register(boto3.DEFAULT_SESSION.events)
            self.lambdas.register(boto3.DEFAULT_SESSION.events)
            for hook in self.hooks:
                hook(boto3.DEFAULT_SESSION.events)
            serial_s3.register(boto3.DEFAULT_SESSION.events)
            self._fresh_clients()
            self._prepare_account(event)
            # The account exists only inside this session, so the images go in before the run starts.
            put_uploads(boto3.client("s3"), self.names.bucket, uploads)
            sfn = boto3.client("stepfunctions")
            role = f"arn:aws:iam::{self.names.account}:role/imgloop-local"
            machine = sfn.create_state_machine(
                name=self.names.state_machine, definition=json.dumps(self.workflow.definition), roleArn=role
            )
            sfn.create_state_machine(
                name=self.names.batch_state_machine, definition=json.dumps(self.workflow.batch_definition), roleArn=role
            )
            try:
                yield sfn, machine["stateMachineArn"]
            except KeyboardInterrupt:
                self._wind_down(sfn)
                raise

    def run(
        self,
        event: Any,
        name: str,
        out_dir: Path | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
        log_level: str = "WARNING",
        uploads: Sequence[Upload] = (),
    ) -> RunResult:
        with self.session(event, log_level, uploads) as (sfn, machine_arn):
            arn = start(sfn, machine_arn, event, name)
            s3 = boto3.client("s3")
            copied: dict[str, str] = {}
            looked_at = 0

            def keep(events: list[dict[str, Any]]) -> None:
                # Each step's files go to out_dir as it ends, so an interrupted run keeps them.
                nonlocal looked_at
                opened = run_folder(events)
                if out_dir is not None and opened is not None and len(events) > looked_at:
                    copy_objects(s3, *opened, run_target(out_dir, name), copied)
                looked_at = len(events)
                self.checkpoint()

            result = follow(sfn, arn, on_event, poll_seconds=_POLL_SECONDS, on_poll=keep)
            if out_dir is not None:
                result.files = fetch(s3, result, out_dir, copied)
            return result

    def run_batch(
        self,
        batch: dict[str, Any],
        name: str,
        files: Sequence[tuple[str, bytes]] = (),
        watch: Callable[[Any, str], Execution] | None = None,
        log_level: str = "WARNING",
    ) -> RunResult:
        """Run the batch state machine on `batch` (its input file, if any, put at the given key of the
        stack's bucket first); `watch(sfn, arn)` follows it, by default until it ends."""
        with self.session(None, log_level) as (sfn, _):
            s3 = boto3.client("s3")
            for key, data in files:
                s3.put_object(Bucket=self.names.bucket, Key=key, Body=data)
            arn = start(sfn, self.batch_machine_arn, batch, name)
            if watch is not None:
                return watch(sfn, arn)
            return follow(sfn, arn, poll_seconds=_POLL_SECONDS)

    def _wind_down(self, sfn: Any) -> None:
        """Stop the executions under way and let the functions running finish, so that nothing writes
        to the account, or reaches for AWS, once the session has closed it."""
        for machine in (self.names.state_machine_arn, self.batch_machine_arn):
            running = sfn.list_executions(stateMachineArn=machine, statusFilter="RUNNING")["executions"]
            for execution in running:
                sfn.stop_execution(executionArn=execution["executionArn"])
        self.lambdas.stop(_WIND_DOWN_SECONDS)

    def _fresh_clients(self) -> None:
        # Clients cached by an earlier run belong to an earlier session and its stand-ins.
        from common import clients

        clients.bedrock.cache_clear()
        clients.s3.cache_clear()
        clients.service_quotas.cache_clear()

    def _prepare_account(self, event: Any) -> None:
        """The stack's bucket, plus a bucket the event names, allowed as a deploy would allow it."""
        s3 = boto3.client("s3")
        buckets = [self.names.bucket]
        named = _named_bucket(event)
        if named and named != self.names.bucket:
            buckets.append(named)
            self.lambdas.overrides["EXTRA_OUTPUT_BUCKETS"] = named
        for bucket in buckets:
            # A name S3 refuses is left for the input check to report.
            with contextlib.suppress(ClientError, ParamValidationError):
                s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": self.names.region})


def _named_bucket(event: Any) -> str | None:
    if not isinstance(event, dict):
        return None
    output = event.get("output")
    value = event.get("output_s3_bucket_name") or (output.get("bucket") if isinstance(output, dict) else None)
    return value if isinstance(value, str) else None

"""How the loop calls its functions: one Lambda task builder, with the retries every task shares."""

import re
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct
from pydantic import BaseModel

from common.errors import OWN_PREFIX, STATES_PREFIX

# Lambda's own transient faults; CDK's default retry leaves out TooManyRequestsException.
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
    "Lambda.Unknown",
    "Sandbox.Timedout",
]
MODEL_TRANSIENT = ["ModelTimeout", "ModelServiceError", "ManifestConflict"]
# Image models have low quotas: throttling gets more and longer tries than other faults.
THROTTLED = ["ModelThrottled"]


@dataclass(frozen=True)
class RetryPolicy:
    """How long transient faults are retried; every retry uses exponential backoff and full jitter."""

    interval_seconds: int = 2
    max_attempts: int = 6
    max_delay_seconds: int = 60
    throttled_interval_seconds: int = 5
    throttled_max_attempts: int = 8
    throttled_max_delay_seconds: int = 120


def lambda_task(
    scope: Construct,
    policy: RetryPolicy,
    name: str,
    function: lambda_.IFunction,
    payload: sfn.TaskInput,
    result_path: str,
    result: type[BaseModel],
    kept: tuple[str, ...] | None = None,
) -> tasks.LambdaInvoke:
    """The task, its state keeping the result model's fields at result_path; with `kept` (expressions over
    `$.Payload`, each field they read checked to be the model's), only those values, as one array in that
    order: the task's whole output."""
    read = {m.group(1) for m in re.finditer(r"\$\.Payload\.(\w+)", " ".join(kept))} if kept else set()
    unknown = sorted(read - set(result.model_fields))
    if unknown:
        raise ValueError(f"{name}: {result.__name__} has no field {', '.join(unknown)}")
    # The function's result model names the fields, which keeps Lambda's invocation metadata out of the
    # state (the task's own history event keeps the function's whole answer).
    selector = (
        {"kept.$": f"States.Array({', '.join(kept)})"}
        if kept
        else {field: sfn.JsonPath.object_at(f"$.Payload.{field}") for field in result.model_fields}
    )
    task = tasks.LambdaInvoke(
        scope,
        name,
        lambda_function=function,
        payload=payload,
        retry_on_service_exceptions=False,
        result_selector=selector,
        result_path=result_path,
        output_path="$.kept" if kept else None,
    )
    for errors, interval, attempts, max_delay in (
        (
            LAMBDA_TRANSIENT + MODEL_TRANSIENT,
            policy.interval_seconds,
            policy.max_attempts,
            policy.max_delay_seconds,
        ),
        (
            THROTTLED,
            policy.throttled_interval_seconds,
            policy.throttled_max_attempts,
            policy.throttled_max_delay_seconds,
        ),
    ):
        task.add_retry(
            errors=errors,
            interval=Duration.seconds(interval),
            max_attempts=attempts,
            backoff_rate=2,
            max_delay=Duration.seconds(max_delay),
            jitter_strategy=sfn.JitterType.FULL,
        )
    return task


def explained(scope: Construct, name: str) -> sfn.Pass:
    """Keeps a function's error message at `$.detail.errorMessage`: the Lambda error's cause is JSON with
    a stack trace, which an execution's error should never show."""
    return sfn.Pass(scope, name, parameters={"detail": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.Cause"))})


@dataclass(frozen=True)
class MessageStates:
    """The names of the states that read an error's message (unique within a state machine)."""

    choice: str
    read: str
    keep: str
    states_error: str
    rename: str


def error_message(scope: Construct, names: MessageStates, then: sfn.IChainable) -> sfn.Choice:
    """Puts any caught error's name at `$.Error` and its message at `$.detail.errorMessage`, then goes on to
    `then`: a function's error is JSON with a stack trace (its message is read out of it); any other
    error's cause (a state's own, an integration's) is its message already."""
    read = sfn.Pass(
        scope,
        names.read,
        parameters={
            "Error": sfn.JsonPath.string_at("$.Error"),
            "detail": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.Cause")),
        },
    )
    keep = sfn.Pass(
        scope,
        names.keep,
        parameters={"Error": sfn.JsonPath.string_at("$.Error"), "detail": {"errorMessage.$": "$.Cause"}},
    )
    # A Step Functions error (States.*) is named this project's way before the Fail state, its name kept in
    # the message (common.errors.own_name says why; the state machine cannot call it, so it is spelled here).
    suffix = sfn.JsonPath.array_get_item(sfn.JsonPath.string_split(sfn.JsonPath.string_at("$.Error"), "."), 1)
    rename = sfn.Pass(
        scope,
        names.rename,
        parameters={
            "Error": sfn.JsonPath.format(f"{OWN_PREFIX}{{}}", suffix),
            "detail": {
                "errorMessage": sfn.JsonPath.format(
                    "{}: {}", sfn.JsonPath.string_at("$.Error"), sfn.JsonPath.string_at("$.detail.errorMessage")
                )
            },
        },
    )
    named = (
        sfn.Choice(scope, names.states_error)
        .when(sfn.Condition.string_matches("$.Error", f"{STATES_PREFIX}*"), rename.next(then))
        .otherwise(then)
    )
    return (
        sfn.Choice(scope, names.choice)
        .when(sfn.Condition.string_matches("$.Cause", '{"errorMessage"*'), read.next(named))
        .otherwise(keep.next(named))
    )

"""The image loop as Amazon States Language (JSONPath), built with CDK so it is defined once.

Counters live in `$.loop` and change only in Pass states (States.MathAdd); Choice states decide
whether to try again, revise the prompt or stop. The functions only do their one job each.
"""

from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

# Lambda's own transient faults; CDK's default retry leaves out TooManyRequestsException.
LAMBDA_TRANSIENT = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.ClientExecutionTimeoutException",
]
MODEL_TRANSIENT = ["ModelThrottled", "ModelTimeout", "ModelServiceError"]

# What each task returns (the functions' result models; a test keeps the two in step). Naming the
# fields keeps Lambda's invocation metadata out of the state and the console's history.
OPENED = ("request", "run")
GENERATION = ("outcome", "model_id", "seed", "staging_key", "content_type", "refusal")
RECORD = ("key",)
VERDICT = ("passed", "score", "reason")
PROPOSAL = ("prompt", "negative_prompt", "note")
SUCCESS = (
    "status",
    "message",
    "bucket",
    "key",
    "s3_uri",
    "bucket_console_url",
    "object_console_url",
    "prompt",
    "negative_prompt",
    "revision",
    "attempt",
    "reason",
    "images_generated",
    "manifest_key",
)
NOT_MET = ("cause",)


@dataclass(frozen=True)
class LoopFunctions:
    generate: lambda_.IFunction
    save: lambda_.IFunction
    validate: lambda_.IFunction
    revise: lambda_.IFunction


@dataclass(frozen=True)
class RetryPolicy:
    """How long transient faults are retried; every retry uses exponential backoff and full jitter."""

    interval_seconds: int = 2
    max_attempts: int = 6
    max_delay_seconds: int = 60


def _attempt_payload(**extra: Any) -> sfn.TaskInput:
    return sfn.TaskInput.from_object(
        {
            "request": sfn.JsonPath.object_at("$.request"),
            "run": sfn.JsonPath.object_at("$.run"),
            "revision": sfn.JsonPath.number_at("$.loop.revision"),
            "attempt": sfn.JsonPath.number_at("$.loop.attempt"),
            "prompt": sfn.JsonPath.string_at("$.loop.prompt"),
            "negative_prompt": sfn.JsonPath.string_at("$.loop.negative_prompt"),
            **extra,
        }
    )


class ImageLoopDefinition(Construct):
    """Builds the chain; `start` is the first state for the state machine."""

    def __init__(self, scope: Construct, id: str, functions: LoopFunctions, retry: RetryPolicy) -> None:
        super().__init__(scope, id)
        self._retry = retry

        check_input = self._task(
            "Check input",
            functions.save,
            sfn.TaskInput.from_object(
                {
                    "action": "open",
                    "request": sfn.JsonPath.entire_payload,
                    "execution": {
                        "id": sfn.JsonPath.execution_id,
                        "name": sfn.JsonPath.execution_name,
                        "started_at": sfn.JsonPath.string_at("$$.Execution.StartTime"),
                    },
                }
            ),
            "$",
            OPENED,
        )
        # The Lambda error's cause is JSON with a stack trace; the execution reports only the message.
        explain_rejection = sfn.Pass(
            self,
            "Explain rejected input",
            parameters={"detail": sfn.JsonPath.string_to_json(sfn.JsonPath.string_at("$.Cause"))},
        )
        rejected = sfn.Fail(self, "Input rejected", error="InvalidInput", cause_path="$.detail.errorMessage")
        check_input.add_catch(explain_rejection.next(rejected), errors=["InvalidInput"], result_path="$")

        start = sfn.Pass(
            self,
            "Start with the original prompt",
            parameters={
                "revision": 0,
                "attempt": 0,
                "prompt": sfn.JsonPath.string_at("$.request.prompt"),
                "negative_prompt": sfn.JsonPath.string_at("$.request.negative_prompt"),
            },
            result_path="$.loop",
        )
        next_attempt = sfn.Pass(
            self,
            "Count the attempt",
            parameters={
                "revision": sfn.JsonPath.number_at("$.loop.revision"),
                "attempt": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.loop.attempt"), 1),
                "prompt": sfn.JsonPath.string_at("$.loop.prompt"),
                "negative_prompt": sfn.JsonPath.string_at("$.loop.negative_prompt"),
            },
            result_path="$.loop",
        )
        generate = self._task("Generate image", functions.generate, _attempt_payload(), "$.generation", GENERATION)
        record = self._task(
            "Save image",
            functions.save,
            _attempt_payload(action="record", generation=sfn.JsonPath.object_at("$.generation")),
            "$.record",
            RECORD,
        )
        validate = self._task(
            "Validate image",
            functions.validate,
            _attempt_payload(key=sfn.JsonPath.string_at("$.record.key")),
            "$.verdict",
            VERDICT,
        )
        revise = self._task("Revise prompt", functions.revise, _attempt_payload(), "$.proposal", PROPOSAL)
        use_revision = sfn.Pass(
            self,
            "Use the revised prompt",
            parameters={
                "revision": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.loop.revision"), 1),
                "attempt": 0,
                "prompt": sfn.JsonPath.string_at("$.proposal.prompt"),
                "negative_prompt": sfn.JsonPath.string_at("$.proposal.negative_prompt"),
            },
            result_path="$.loop",
        )
        report_success = self._task(
            "Report success",
            functions.save,
            _attempt_payload(
                action="succeeded",
                key=sfn.JsonPath.string_at("$.record.key"),
                reason=sfn.JsonPath.string_at("$.verdict.reason"),
            ),
            "$",
            SUCCESS,
        )
        report_not_met = self._task(
            "Report requirements not met",
            functions.save,
            sfn.TaskInput.from_object(
                {
                    "action": "requirements_not_met",
                    "request": sfn.JsonPath.object_at("$.request"),
                    "run": sfn.JsonPath.object_at("$.run"),
                }
            ),
            "$.closing",
            NOT_MET,
        )
        not_met = sfn.Fail(self, "Requirements not met", error="RequirementsNotMet", cause_path="$.closing.cause")

        more_revisions = (
            sfn.Choice(self, "More prompt revisions?")
            .when(
                sfn.Condition.number_less_than_json_path("$.loop.revision", "$.request.max_prompt_revisions"),
                revise.next(use_revision).next(next_attempt),
            )
            .otherwise(report_not_met.next(not_met))
        )
        more_attempts = (
            sfn.Choice(self, "More attempts for this prompt?")
            .when(
                sfn.Condition.number_less_than_json_path("$.loop.attempt", "$.request.max_retry_attempts"),
                next_attempt,
            )
            .otherwise(more_revisions)
        )
        accepted = (
            sfn.Choice(self, "Image accepted?")
            .when(
                sfn.Condition.boolean_equals("$.verdict.passed", True),
                report_success.next(sfn.Succeed(self, "Done")),
            )
            .otherwise(more_attempts)
        )
        image_made = (
            sfn.Choice(self, "Was an image made?")
            .when(sfn.Condition.string_equals("$.generation.outcome", "image"), validate.next(accepted))
            .otherwise(more_attempts)
        )
        self.start = check_input.next(start).next(next_attempt).next(generate).next(record).next(image_made)

    def _task(
        self,
        name: str,
        function: lambda_.IFunction,
        payload: sfn.TaskInput,
        result_path: str,
        fields: tuple[str, ...],
    ) -> tasks.LambdaInvoke:
        task = tasks.LambdaInvoke(
            self,
            name,
            lambda_function=function,
            payload=payload,
            retry_on_service_exceptions=False,
            result_selector={field: sfn.JsonPath.object_at(f"$.Payload.{field}") for field in fields},
            result_path=result_path,
        )
        for errors in (LAMBDA_TRANSIENT, MODEL_TRANSIENT, ["ManifestConflict"]):
            task.add_retry(
                errors=errors,
                interval=Duration.seconds(self._retry.interval_seconds),
                max_attempts=self._retry.max_attempts,
                backoff_rate=2,
                max_delay=Duration.seconds(self._retry.max_delay_seconds),
                jitter_strategy=sfn.JitterType.FULL,
            )
        return task

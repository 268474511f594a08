"""The four functions, the Standard state machine that loops over them, and the batch state machine
that runs the same loop on each item of a batch."""

import json
from typing import Any

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from common.batches import BATCHES_PREFIX
from infra import constants as c
from infra.access import allow_models, allow_objects, allow_quota_reads, logical_id
from infra.functions import FunctionFactory
from infra.layers import PILLOW_DIR, pip_layer
from infra.nag import acknowledge
from statemachine.batch import BatchDefinition
from statemachine.definition import ImageLoopDefinition, LoopFunctions
from statemachine.tasks import RetryPolicy


class ImageLoopWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        bucket: s3.IBucket,
        extra_buckets: list[str],
        models: dict[str, str],
        allowed_models: list[str],
        powertools_layer_arn: str | None,
        batch_concurrency: int | None,
        batch_plan: dict[str, Any],
    ) -> None:
        super().__init__(scope, id)
        self.factory = FunctionFactory(
            self,
            powertools_layer_arn,
            {
                "OUTPUT_BUCKET": bucket.bucket_name,
                "EXTRA_OUTPUT_BUCKETS": ",".join(extra_buckets),
                "GENERATOR_MODEL_ID": models["generator"],
                "VALIDATOR_MODEL_ID": models["validator"],
                "REVISER_MODEL_ID": models["reviser"],
                "ALLOWED_MODELS": ",".join(allowed_models),
                # Unset, the batch's plan sets the concurrency from the models' quotas.
                "BATCH_CONCURRENCY": str(batch_concurrency or ""),
                "BATCH_PLAN": json.dumps(batch_plan, separators=(",", ":")),
            },
        )
        self.functions = self._functions(bucket, extra_buckets, allowed_models)
        loop_functions = LoopFunctions(**self.functions)
        definition = ImageLoopDefinition(self, "Definition", loop_functions, RetryPolicy())
        self.state_machine = self._machine("StateMachine", definition.start, Duration.hours(3), self.functions)
        # A batch's items share the image model's quota: throttling storms last longer than a single
        # run sees, so its tasks wait out throttling for up to about 40 minutes (12 tries, backoff capped at
        # 5 minutes, full jitter) before an item fails.
        batch_retry = RetryPolicy(throttled_max_attempts=12, throttled_max_delay_seconds=300)
        batch = BatchDefinition(self, "BatchDefinition", loop_functions, batch_retry, bucket)
        # Up to 10,000 items at the batch's concurrency: a week is room for the slowest quota.
        self.batch_machine = self._machine("BatchStateMachine", batch.start, Duration.days(7), self.functions)
        self._acknowledge_batch(bucket)

    def _functions(
        self, bucket: s3.IBucket, extra_buckets: list[str], allowed_models: list[str]
    ) -> dict[str, lambda_.Function]:
        """The four functions, each allowed its own S3 actions in every bucket the stack may use and (all but
        Save) the allow-listed models."""
        stack = Stack.of(self)
        # Validate measures how far a masked edit strayed outside its mask, with Pillow.
        pillow = pip_layer(self, "PillowLayer", PILLOW_DIR, "Pillow for imgloop's outside-mask guard")
        functions: dict[str, lambda_.Function] = {}
        for name, (construct_id, handler, timeout) in c.FUNCTIONS.items():
            layers = (pillow,) if name == "validate" else ()
            function = self.factory.make(self, construct_id, handler, timeout, layers)
            role = function.role
            assert role is not None
            allow_objects(role, name, bucket)
            for extra in extra_buckets:
                allow_objects(role, name, s3.Bucket.from_bucket_name(self, f"{construct_id}{extra}", extra))
            if name != "save":
                allow_models(role, stack, allowed_models)
            else:
                allow_quota_reads(role, stack)
            functions[name] = function
        return functions

    def _acknowledge_batch(self, bucket: s3.IBucket) -> None:
        acknowledge(
            self.batch_machine.role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{BATCHES_PREFIX}/*]",
            "the Distributed Map reads the item list Save wrote (batches/<batch>/runs/<execution>/items.json), "
            "a key made per batch and execution",
        )
        children = self.batch_machine.node.find_child("DistributedMapPolicy")
        machine = '{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"' + logical_id(self.batch_machine) + '"}]}]}'
        for suffix in ("", "/items"):
            acknowledge(
                children,
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
                f"{machine}{suffix}:*]",
                "the Distributed Map describes and stops its own child executions (one per item), whose names "
                "Step Functions makes per Map Run",
            )

    def _machine(
        self, id: str, start: sfn.IChainable, timeout: Duration, functions: dict[str, lambda_.Function]
    ) -> sfn.StateMachine:
        machine = sfn.StateMachine(
            self,
            id,
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(start),
            timeout=timeout,
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, f"{id}Logs", retention=logs.RetentionDays.ONE_MONTH),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        machine_policy = machine.role.node.find_child("DefaultPolicy")
        for function in functions.values():
            acknowledge(
                machine_policy,
                f"AwsSolutions-IAM5[Resource::<{logical_id(function)}.Arn>:*]",
                "the state machine may invoke its own four functions, any version of them, and nothing else",
            )
        acknowledge(
            machine_policy,
            "AwsSolutions-IAM5[Resource::*]",
            "log delivery and X-Ray actions take no resource ARN (execution logging and tracing are on)",
        )
        return machine

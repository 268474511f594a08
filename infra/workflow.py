"""The four functions and the Standard state machine that loops over them."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from infra.access import allow_models, allow_objects, logical_id
from infra.functions import FunctionFactory
from infra.layers import PILLOW_DIR, pip_layer
from infra.nag import acknowledge
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
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
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
            },
        )
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
            functions[name] = function
        self.functions = functions

        definition = ImageLoopDefinition(
            self,
            "Definition",
            LoopFunctions(**functions),
            RetryPolicy(),
        )
        self.state_machine = sfn.StateMachine(
            self,
            "StateMachine",
            state_machine_type=sfn.StateMachineType.STANDARD,
            definition_body=sfn.DefinitionBody.from_chainable(definition.start),
            timeout=Duration.hours(3),
            tracing_enabled=True,
            logs=sfn.LogOptions(
                destination=logs.LogGroup(self, "StateMachineLogs", retention=logs.RetentionDays.ONE_MONTH),
                level=sfn.LogLevel.ALL,
                include_execution_data=True,
            ),
        )
        machine_policy = self.state_machine.role.node.find_child("DefaultPolicy")
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

"""The four functions and the Standard state machine that loops over them."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from statemachine.definition import ImageLoopDefinition, LoopFunctions, RetryPolicy


class ImageLoopWorkflow(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        bucket: s3.IBucket,
        extra_buckets: list[str],
        models: dict[str, str],
        powertools_layer_arn: str | None,
    ) -> None:
        super().__init__(scope, id)
        layer_arn = powertools_layer_arn or ssm.StringParameter.value_for_string_parameter(
            self, c.POWERTOOLS_LAYER_PARAMETER
        )
        layer = lambda_.LayerVersion.from_layer_version_arn(self, "Powertools", layer_arn)
        code = lambda_.Code.from_asset(str(c.LAMBDAS_DIR), exclude=["**/__pycache__", "**/*.pyc"])
        environment = {
            "OUTPUT_BUCKET": bucket.bucket_name,
            "EXTRA_OUTPUT_BUCKETS": ",".join(extra_buckets),
            "GENERATOR_MODEL_ID": models["generator"],
            "VALIDATOR_MODEL_ID": models["validator"],
            "REVISER_MODEL_ID": models["reviser"],
            "POWERTOOLS_SERVICE_NAME": c.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": c.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        stack = Stack.of(self)
        invoke_models = iam.PolicyStatement(
            actions=["bedrock:InvokeModel"],
            resources=[
                f"arn:{stack.partition}:bedrock:*::foundation-model/*",
                f"arn:{stack.partition}:bedrock:*:{stack.account}:inference-profile/*",
                f"arn:{stack.partition}:bedrock:*:{stack.account}:application-inference-profile/*",
            ],
        )
        # Third-party models (Stability, Anthropic) are sold through AWS Marketplace: the first call
        # in an account subscribes to the offer, which needs these rights.
        subscribe = iam.PolicyStatement(
            actions=["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"], resources=["*"]
        )
        functions: dict[str, lambda_.Function] = {}
        for name, (construct_id, handler, timeout) in c.FUNCTIONS.items():
            function = lambda_.Function(
                self,
                construct_id,
                runtime=lambda_.Runtime.PYTHON_3_13,
                architecture=lambda_.Architecture.X86_64,
                code=code,
                handler=handler,
                timeout=Duration.seconds(timeout),
                memory_size=512,
                layers=[layer],
                environment=environment,
                tracing=lambda_.Tracing.ACTIVE,
                log_group=logs.LogGroup(self, f"{construct_id}Logs", retention=logs.RetentionDays.ONE_MONTH),
            )
            bucket.grant_read_write(function)
            for extra in extra_buckets:
                s3.Bucket.from_bucket_name(self, f"{construct_id}{extra}", extra).grant_read_write(function)
            if name != "save":
                function.add_to_role_policy(invoke_models)
                function.add_to_role_policy(subscribe)
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

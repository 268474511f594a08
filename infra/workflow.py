"""The four functions and the Standard state machine that loops over them."""

from aws_cdk import Duration, Stack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ssm as ssm
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra import constants as c
from infra.access import allow_models, allow_objects, logical_id
from infra.nag import acknowledge
from statemachine.definition import ImageLoopDefinition, LoopFunctions, RetryPolicy


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
            "ALLOWED_MODELS": ",".join(allowed_models),
            "POWERTOOLS_SERVICE_NAME": c.SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": c.METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
        }
        stack = Stack.of(self)
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
            role = function.role
            assert role is not None
            allow_objects(role, name, bucket)
            for extra in extra_buckets:
                allow_objects(role, name, s3.Bucket.from_bucket_name(self, f"{construct_id}{extra}", extra))
            if name != "save":
                allow_models(role, stack, allowed_models)
            acknowledge(
                role,
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                "the managed basic execution role only lets the function write its own CloudWatch Logs",
            )
            acknowledge(
                role.node.find_child("DefaultPolicy"),
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource ARN (active tracing)",
            )
            acknowledge(
                function,
                "AwsSolutions-L1",
                "Python 3.13 is the newest runtime the public Powertools layer this stack uses is built for",
            )
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

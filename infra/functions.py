"""How every function of the stack is built: one code asset, the Powertools layer, tracing, logs."""

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from common.names import METRICS_NAMESPACE, SERVICE_NAME
from infra import constants as c
from infra.nag import acknowledge


class FunctionFactory:
    def __init__(self, scope: Construct, powertools_layer_arn: str | None, environment: dict[str, str]) -> None:
        layer_arn = powertools_layer_arn or ssm.StringParameter.value_for_string_parameter(
            scope, c.POWERTOOLS_LAYER_PARAMETER
        )
        self._layer = lambda_.LayerVersion.from_layer_version_arn(scope, "Powertools", layer_arn)
        self._code = lambda_.Code.from_asset(str(c.LAMBDAS_DIR), exclude=["**/__pycache__", "**/*.pyc"])
        self._environment = {
            "POWERTOOLS_SERVICE_NAME": SERVICE_NAME,
            "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            **environment,
        }

    def make(
        self,
        scope: Construct,
        construct_id: str,
        handler: str,
        timeout: int,
        layers: tuple[lambda_.ILayerVersion, ...] = (),
    ) -> lambda_.Function:
        function = lambda_.Function(
            scope,
            construct_id,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.X86_64,
            code=self._code,
            handler=handler,
            timeout=Duration.seconds(timeout),
            memory_size=512,
            layers=[self._layer, *layers],
            environment=self._environment,
            tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(scope, f"{construct_id}Logs", retention=logs.RetentionDays.ONE_MONTH),
        )
        role = function.role
        assert role is not None
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
        return function

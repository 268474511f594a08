"""The HTTP API: POST /generations starts an execution, GET /generations/{id} reports on it, and
POST /uploads answers a presigned URL to send an image to edit to.

The start is a direct Step Functions integration (no Lambda in between) and asynchronous: the
machine is STANDARD and may run for many minutes, so the answer is 202 with the execution's id.
The request body is checked against the schema the workflow's own input rules produce."""

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from common.schema import request_schema
from infra.access import allow_objects, logical_id
from infra.functions import FunctionFactory
from infra.nag import acknowledge
from infra.storage import UPLOADS_PREFIX

# $util.escapeJavaScript keeps quotes, backslashes, newlines and non-Latin text intact inside a JSON
# string, but it also escapes single quotes (\'), which JSON does not allow; every use undoes that
# with replaceAll, whose first argument is a Java regex: one backslash, then a quote.
UNESCAPE_QUOTES = r""".replaceAll("\\'", "'")"""

# The execution name: the Idempotency-Key header, else the body's idempotency_key, else the
# request id. The input is the body as sent.
START_TEMPLATE = (
    """#set($body = $input.path('$'))
#set($key = $input.params().header.get('Idempotency-Key'))
#if("$!key" == "")#set($key = $input.params().header.get('idempotency-key'))#end
#if("$!key" == "")#set($key = "$!body.idempotency_key")#end
#if("$!key" == "")#set($key = $context.requestId)#end
{
  "stateMachineArn": "%s",
  "name": "$util.escapeJavaScript($key)"""
    + UNESCAPE_QUOTES
    + """",
  "input": "$util.escapeJavaScript($input.json('$'))"""
    + UNESCAPE_QUOTES
    + """"
}"""
)

# The id is the execution name, the ARN's last part (VTL does arithmetic only in #set).
STARTED_TEMPLATE = """#set($arn = $input.path('$.executionArn'))
#set($cut = $arn.lastIndexOf(':') + 1)
{
  "id": "$arn.substring($cut)",
  "executionArn": "$arn",
  "startDate": "$input.path('$.startDate')"
}"""

# Step Functions answers 400 ExecutionAlreadyExists for a name used with another input, or by an
# execution that has ended (same input while it runs returns that execution: idempotent). API
# Gateway's #if takes a null as true, so the error type is tested as a string, never as a null.
REFUSED_TEMPLATE = (
    """#set($type = "$!input.path('$.__type')")
#if($type.contains('ExecutionAlreadyExists'))
#set($context.responseOverride.status = 409)
{"message": "idempotency key already used (the run ended, or had another body): GET /generations/{key}"}
#else
{"message": "$util.escapeJavaScript($input.path('$.message'))"""
    + UNESCAPE_QUOTES
    + """"}
#end"""
)

# API Gateway's own answer to a body the schema rejects says only "Invalid request body"; this one
# names the fields and rules.
BAD_BODY_TEMPLATE = '{"message": "$util.escapeJavaScript($context.error.validationErrorString)' + UNESCAPE_QUOTES + '"}'


class GenerationsApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        state_machine: sfn.StateMachine,
        bucket: s3.IBucket,
        factory: FunctionFactory,
        auth: str,
        default_generator: str,
        extra_buckets: list[str],
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self._state_machine = state_machine
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR)
        self.api = apigw.RestApi(
            self,
            "Api",
            description="Start image generations and read their results",
            cloud_watch_role=True,
            deploy_options=apigw.StageOptions(
                stage_name="v1",
                access_log_destination=apigw.LogGroupLogDestination(access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
                logging_level=apigw.MethodLoggingLevel.ERROR,
                tracing_enabled=True,
                throttling_rate_limit=10,
                throttling_burst_limit=20,
            ),
        )
        # The raw draft-4 schema goes in as it is (the L2 Model wants it retyped field by field).
        schema = apigw.CfnModel(
            self,
            "GenerationRequest",
            rest_api_id=self.api.rest_api_id,
            content_type="application/json",
            name="GenerationRequest",
            schema=request_schema(default_generator),
        )
        model = apigw.Model.from_model_name(self, "GenerationRequestModel", schema.ref)
        self.api.add_gateway_response(
            "BadBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={"application/json": BAD_BODY_TEMPLATE},
        )
        validator = apigw.RequestValidator(
            self, "BodyValidator", rest_api=self.api, validate_request_body=True, validate_request_parameters=True
        )
        method_auth = (
            {"authorization_type": apigw.AuthorizationType.IAM}
            if auth == "iam"
            else {"authorization_type": apigw.AuthorizationType.NONE, "api_key_required": True}
        )

        start_role = iam.Role(self, "StartRole", assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
        state_machine.grant_start_execution(start_role)
        start = apigw.AwsIntegration(
            service="states",
            action="StartExecution",
            options=apigw.IntegrationOptions(
                credentials_role=start_role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                request_templates={"application/json": START_TEMPLATE % state_machine.state_machine_arn},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="202", response_templates={"application/json": STARTED_TEMPLATE}
                    ),
                    apigw.IntegrationResponse(
                        status_code="400",
                        selection_pattern="4\\d{2}",
                        response_templates={"application/json": REFUSED_TEMPLATE},
                    ),
                    apigw.IntegrationResponse(
                        status_code="502",
                        selection_pattern="5\\d{2}",
                        response_templates={"application/json": '{"message": "Step Functions did not answer"}'},
                    ),
                ],
            ),
        )
        generations = self.api.root.add_resource("generations")
        post = generations.add_method(
            "POST",
            start,
            request_models={"application/json": model},
            request_validator=validator,
            method_responses=[apigw.MethodResponse(status_code=code) for code in ("202", "400", "409", "502")],
            **method_auth,
        )
        post.node.add_dependency(schema)

        self.status_function = factory.make(self, "StatusFunction", "status.handler.handler", 10)
        self.status_function.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
        self.status_function.add_environment("UPLOADS_PREFIX", UPLOADS_PREFIX)
        status_role = self.status_function.role
        assert status_role is not None
        allow_objects(status_role, "status", bucket)
        # A presigned PUT is made with the signer's own rights: the status function's, on the stack's
        # own bucket's uploads only (the extra buckets take no uploads).
        status_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["s3:PutObject"], resources=[bucket.arn_for_objects(f"{UPLOADS_PREFIX}/*")])
        )
        for extra in extra_buckets:
            allow_objects(status_role, "status", s3.Bucket.from_bucket_name(self, f"Status{extra}", extra))
        machine = state_machine.state_machine_name
        executions = f"arn:{stack.partition}:states:{stack.region}:{stack.account}:execution:{machine}:*"
        status_role.add_to_principal_policy(
            iam.PolicyStatement(actions=["states:DescribeExecution"], resources=[executions])
        )
        generations.add_resource("{id}").add_method(
            "GET",
            apigw.LambdaIntegration(self.status_function),
            request_validator=validator,
            request_parameters={"method.request.path.id": True},
            **method_auth,
        )
        self.api.root.add_resource("uploads").add_method(
            "POST", apigw.LambdaIntegration(self.status_function), request_validator=validator, **method_auth
        )
        if auth == "api_key":
            self._api_key_plan()
        self._acknowledge(status_role, auth, bucket)
        # RestApi.url ends in "/", so "$API_URL/generations" would hold "//"; this one does not.
        self.url = (
            f"https://{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/"
            f"{self.api.deployment_stage.stage_name}"
        )

    def _api_key_plan(self) -> None:
        key = self.api.add_api_key("Key", description="imgloop clients")
        # The id, not the value: the value is a secret, read with `aws apigateway get-api-key --include-value`.
        CfnOutput(self, "ApiKeyId", value=key.key_id).override_logical_id("ApiKeyId")
        plan = self.api.add_usage_plan(
            "Plan",
            throttle=apigw.ThrottleSettings(rate_limit=5, burst_limit=10),
            quota=apigw.QuotaSettings(limit=10000, period=apigw.Period.MONTH),
        )
        plan.add_api_key(key)
        plan.add_api_stage(stage=self.api.deployment_stage)

    def _acknowledge(self, status_role: iam.IRole, auth: str, bucket: s3.IBucket) -> None:
        acknowledge(
            self.api.deployment_stage,
            "AwsSolutions-APIG3",
            "a WAF web ACL is an account-level choice; the API is IAM-authorized (or keyed) and throttled",
        )
        acknowledge(
            self.api,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
            "API Gateway's account-level logging role needs exactly this managed policy to write execution logs",
        )
        for method in self.api.methods:
            acknowledge(
                method,
                "AwsSolutions-COG4",
                "callers are AWS principals signing with SigV4 (or API-key holders), not Cognito users",
            )
            if auth == "api_key":
                acknowledge(method, "AwsSolutions-APIG4", "API-key mode was chosen at deploy time (imgloop:api_auth)")
        acknowledge(
            status_role.node.find_child("DefaultPolicy"),
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:"
            f"<{logical_id(self._state_machine)}.Name>:*]",
            "the status function may describe the executions of this one state machine, whatever their names",
        )
        acknowledge(
            status_role.node.find_child("DefaultPolicy"),
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{UPLOADS_PREFIX}/*]",
            "POST /uploads presigns a PUT of a new random key under the uploads prefix; it may write nowhere else",
        )

"""The HTTP API: POST /generations and POST /batches start an execution of the image loop or of the
batch state machine, GET /generations/{id} and GET /batches/{id} report on it, and POST /uploads
answers a presigned URL to send an image to edit (or a batch's items) to.

A start is a direct Step Functions integration (no Lambda in between) and asynchronous: the
machines are STANDARD and may run for many minutes, so the answer is 202 with the execution's id.
Each request body is checked against the schema its workflow's own input rules produce."""

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from common.names import UPLOADS_PREFIX, Outputs
from common.schema import batch_schema, request_schema
from infra.access import allow_objects, logical_id
from infra.api_templates import BAD_BODY_TEMPLATE, REFUSED_TEMPLATE, START_TEMPLATE, STARTED_TEMPLATE
from infra.functions import FunctionFactory
from infra.nag import acknowledge


class GenerationsApi(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        state_machine: sfn.StateMachine,
        batch_machine: sfn.StateMachine,
        bucket: s3.IBucket,
        factory: FunctionFactory,
        auth: str,
        default_generator: str,
        extra_buckets: list[str],
    ) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        self.api = self._rest_api()
        self._validator = apigw.RequestValidator(
            self, "BodyValidator", rest_api=self.api, validate_request_body=True, validate_request_parameters=True
        )
        self._auth: dict[str, Any] = (
            {"authorization_type": apigw.AuthorizationType.IAM}
            if auth == "iam"
            else {"authorization_type": apigw.AuthorizationType.NONE, "api_key_required": True}
        )
        generations = self.api.root.add_resource("generations")
        self._start(generations, "StartRole", "GenerationRequest", request_schema(default_generator), state_machine)
        batches = self.api.root.add_resource("batches")
        self._start(batches, "BatchStartRole", "BatchRequest", batch_schema(), batch_machine)

        self.status_function = factory.make(self, "StatusFunction", "status.handler.handler", 10)
        status_role = self._status_rights(bucket, extra_buckets, state_machine, batch_machine)
        self._status_methods(generations, batches, apigw.LambdaIntegration(self.status_function))
        if auth == "api_key":
            self._api_key_plan()
        self._acknowledge(status_role, auth, bucket, state_machine, batch_machine)
        # RestApi.url ends in "/", so "$API_URL/generations" would hold "//"; this one does not.
        self.url = (
            f"https://{self.api.rest_api_id}.execute-api.{stack.region}.{stack.url_suffix}/"
            f"{self.api.deployment_stage.stage_name}"
        )

    def _rest_api(self) -> apigw.RestApi:
        """The API with its stage's access logs, tracing and throttling, and a bad body's answer."""
        access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_YEAR)
        api = apigw.RestApi(
            self,
            "Api",
            description="Start image generations and batches of them, and read their results",
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
        api.add_gateway_response(
            "BadBody",
            type=apigw.ResponseType.BAD_REQUEST_BODY,
            status_code="400",
            templates={"application/json": BAD_BODY_TEMPLATE},
        )
        return api

    def _status_rights(
        self,
        bucket: s3.IBucket,
        extra_buckets: list[str],
        state_machine: sfn.StateMachine,
        batch_machine: sfn.StateMachine,
    ) -> iam.IRole:
        """What the status function may read and presign (the machines it reports on, the runs' objects,
        uploads), given to its role, which it answers."""
        self.status_function.add_environment("STATE_MACHINE_ARN", state_machine.state_machine_arn)
        self.status_function.add_environment("BATCH_STATE_MACHINE_ARN", batch_machine.state_machine_arn)
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
        self._allow_status(status_role, state_machine, batch_machine)
        return status_role

    def _status_methods(
        self, generations: apigw.Resource, batches: apigw.Resource, status: apigw.LambdaIntegration
    ) -> None:
        """GET /generations/{id}, GET /batches/{id} and POST /uploads, all answered by the status function."""
        generations.add_resource("{id}").add_method(
            "GET",
            status,
            request_validator=self._validator,
            request_parameters={"method.request.path.id": True},
            **self._auth,
        )
        # ?items=true&offset=N&limit=N: a page of a finished batch's manifest (lambdas/status/batches.py).
        batches.add_resource("{id}").add_method(
            "GET",
            status,
            request_validator=self._validator,
            request_parameters={
                "method.request.path.id": True,
                **{f"method.request.querystring.{name}": False for name in ("items", "offset", "limit")},
            },
            **self._auth,
        )
        self.api.root.add_resource("uploads").add_method(
            "POST", status, request_validator=self._validator, **self._auth
        )

    def _start(
        self, resource: apigw.Resource, role_id: str, model_name: str, schema: dict[str, Any], machine: sfn.StateMachine
    ) -> None:
        """POST on the resource: the body, checked against the schema, starts an execution of the machine,
        through a role that may start that machine only."""
        # The raw draft-4 schema goes in as it is (the L2 Model wants it retyped field by field).
        model = apigw.CfnModel(
            self,
            model_name,
            rest_api_id=self.api.rest_api_id,
            content_type="application/json",
            name=model_name,
            schema=schema,
        )
        role = iam.Role(self, role_id, assumed_by=iam.ServicePrincipal("apigateway.amazonaws.com"))
        machine.grant_start_execution(role)
        start = apigw.AwsIntegration(
            service="states",
            action="StartExecution",
            options=apigw.IntegrationOptions(
                credentials_role=role,
                passthrough_behavior=apigw.PassthroughBehavior.NEVER,
                request_templates={"application/json": START_TEMPLATE % machine.state_machine_arn},
                integration_responses=[
                    apigw.IntegrationResponse(
                        status_code="202", response_templates={"application/json": STARTED_TEMPLATE}
                    ),
                    apigw.IntegrationResponse(
                        status_code="400",
                        selection_pattern="4\\d{2}",
                        response_templates={"application/json": REFUSED_TEMPLATE % resource.path},
                    ),
                    apigw.IntegrationResponse(
                        status_code="502",
                        selection_pattern="5\\d{2}",
                        response_templates={"application/json": '{"message": "Step Functions did not answer"}'},
                    ),
                ],
            ),
        )
        post = resource.add_method(
            "POST",
            start,
            request_models={"application/json": apigw.Model.from_model_name(self, f"{model_name}Model", model.ref)},
            request_validator=self._validator,
            method_responses=[apigw.MethodResponse(status_code=code) for code in ("202", "400", "409", "502")],
            **self._auth,
        )
        post.node.add_dependency(model)

    def _allow_status(self, role: iam.IRole, state_machine: sfn.StateMachine, batch_machine: sfn.StateMachine) -> None:
        """GET /generations/{id} and GET /batches/{id} describe executions of these two machines only, and
        a running batch's Map Run."""
        stack = Stack.of(self)
        states = f"arn:{stack.partition}:states:{stack.region}:{stack.account}"
        batches = f"{states}:execution:{batch_machine.state_machine_name}:*"
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["states:DescribeExecution"],
                resources=[f"{states}:execution:{state_machine.state_machine_name}:*", batches],
            )
        )
        role.add_to_principal_policy(iam.PolicyStatement(actions=["states:ListMapRuns"], resources=[batches]))
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["states:DescribeMapRun"],
                resources=[f"{states}:mapRun:{batch_machine.state_machine_name}/*"],
            )
        )

    def _api_key_plan(self) -> None:
        key = self.api.add_api_key("Key", description="imgloop clients")
        # The id, not the value: the value is a secret, read with `aws apigateway get-api-key --include-value`.
        CfnOutput(self, Outputs.API_KEY_ID, value=key.key_id).override_logical_id(Outputs.API_KEY_ID)
        plan = self.api.add_usage_plan(
            "Plan",
            throttle=apigw.ThrottleSettings(rate_limit=5, burst_limit=10),
            quota=apigw.QuotaSettings(limit=10000, period=apigw.Period.MONTH),
        )
        plan.add_api_key(key)
        plan.add_api_stage(stage=self.api.deployment_stage)

    def _acknowledge(
        self,
        status_role: iam.IRole,
        auth: str,
        bucket: s3.IBucket,
        state_machine: sfn.StateMachine,
        batch_machine: sfn.StateMachine,
    ) -> None:
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
        policy = status_role.node.find_child("DefaultPolicy")
        states = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"
        readers = {
            state_machine: "GET /generations/{id} describes the executions of the loop state machine only, "
            "whatever their names (the callers' idempotency keys)",
            batch_machine: "GET /batches/{id} describes the executions of the batch state machine only, and lists "
            "their Map Runs, whatever the executions' names",
        }
        for machine, reason in readers.items():
            acknowledge(
                policy, f"AwsSolutions-IAM5[Resource::{states}:execution:<{logical_id(machine)}.Name>:*]", reason
            )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::{states}:mapRun:<{logical_id(batch_machine)}.Name>/*]",
            "GET /batches/{id} describes the Map Run of a running batch, whose id Step Functions makes per run; "
            "only the batch state machine's Map Runs",
        )
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{UPLOADS_PREFIX}/*]",
            "POST /uploads presigns a PUT of a new random key under the uploads prefix; it may write nowhere else",
        )

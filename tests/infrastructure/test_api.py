"""The HTTP API as synthesized: methods, authorization, validation, integrations, IAM and logging.
(Its mapping templates, executed: test_api_templates.py.)"""

import json
from typing import Any

import pytest

from common.batches import MAX_INLINE_ITEMS
from common.schema import batch_schema, request_schema
from imgloop.local.assembly import BATCH_MACHINE, LOOP_MACHINE
from tests.infrastructure.helpers import (
    STARTS,
    api_methods,
    images_bucket,
    joined,
    listed,
    placeholder,
    resources,
    role_statements,
    state_machine,
)


@pytest.mark.parametrize("method", STARTS)
def test_post_starts_an_execution_directly_and_answers_202(method: str, template: dict[str, Any]) -> None:
    integration = api_methods(template)[method]["Integration"]
    assert integration["Type"] == "AWS"
    assert json.dumps(integration["Uri"]).count(":states:action/StartExecution") == 1
    request = json.dumps(integration["RequestTemplates"]["application/json"])
    assert "Idempotency-Key" in request and "idempotency_key" in request and "$context.requestId" in request
    assert "$util.escapeJavaScript($input.json('$'))" in request
    machine, _ = state_machine(template, STARTS[method][0])
    assert {"Ref": machine} in integration["RequestTemplates"]["application/json"]["Fn::Join"][1]
    codes = {r["StatusCode"]: r for r in integration["IntegrationResponses"]}
    assert set(codes) == {"202", "400", "502"}
    assert "responseOverride.status = 409" in codes["400"]["ResponseTemplates"]["application/json"]
    assert "ExecutionAlreadyExists" in codes["400"]["ResponseTemplates"]["application/json"]


def test_every_method_is_iam_authorized_and_validated(template: dict[str, Any]) -> None:
    methods = api_methods(template)
    assert set(methods) == {
        "POST /generations",
        "GET /generations/{id}",
        "POST /batches",
        "GET /batches/{id}",
        "POST /uploads",
    }
    assert all(m["AuthorizationType"] == "AWS_IAM" for m in methods.values())
    [validator] = resources(template, "AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert all("RequestValidatorId" in m for m in methods.values())
    assert methods["GET /generations/{id}"]["RequestParameters"] == {"method.request.path.id": True}
    assert methods["GET /batches/{id}"]["RequestParameters"] == {
        "method.request.path.id": True,
        "method.request.querystring.items": False,
        "method.request.querystring.offset": False,
        "method.request.querystring.limit": False,
    }
    assert methods["GET /generations/{id}"]["Integration"]["Type"] == "AWS_PROXY"


@pytest.mark.parametrize(
    ("method", "name", "schema"),
    [
        ("POST /generations", "GenerationRequest", request_schema()),
        ("POST /batches", "BatchRequest", batch_schema()),
    ],
)
def test_each_body_schema_is_its_workflows_own(
    method: str, name: str, schema: dict[str, Any], template: dict[str, Any]
) -> None:
    [(model_id, model)] = [
        (k, m) for k, m in resources(template, "AWS::ApiGateway::Model").items() if m["Properties"]["Name"] == name
    ]
    assert model["Properties"]["Schema"] == schema
    assert api_methods(template)[method]["RequestModels"] == {"application/json": {"Ref": model_id}}


def test_the_batch_schema_takes_at_most_the_inline_items_a_start_request_may_hold() -> None:
    assert batch_schema()["properties"]["items"]["maxItems"] == MAX_INLINE_ITEMS


def test_status_serves_both_gets_and_may_describe_only_the_two_machines_executions_and_a_batchs_map_run(
    template: dict[str, Any],
) -> None:
    [(status_id, status)] = [
        (k, f) for k, f in resources(template, "AWS::Lambda::Function").items() if "StatusFunction" in k
    ]
    methods = api_methods(template)
    for get in ("GET /generations/{id}", "GET /batches/{id}"):
        assert methods[get]["Integration"]["Type"] == "AWS_PROXY"
        assert status_id in json.dumps(methods[get]["Integration"]["Uri"])
    loop, batch = state_machine(template, LOOP_MACHINE)[0], state_machine(template, BATCH_MACHINE)[0]
    environment = status["Properties"]["Environment"]["Variables"]
    assert environment["STATE_MACHINE_ARN"] == {"Ref": loop}
    assert environment["BATCH_STATE_MACHINE_ARN"] == {"Ref": batch}
    role = status["Properties"]["Role"]["Fn::GetAtt"][0]
    granted = {
        (action, joined(resource, placeholder))
        for statement in role_statements(template, role)
        for action in listed(statement["Action"])
        if action.startswith("states:")
        for resource in listed(statement["Resource"])
    }
    states = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"
    assert granted == {
        ("states:DescribeExecution", f"{states}:execution:<{loop}.Name>:*"),
        ("states:DescribeExecution", f"{states}:execution:<{batch}.Name>:*"),
        ("states:ListMapRuns", f"{states}:execution:<{batch}.Name>:*"),
        ("states:DescribeMapRun", f"{states}:mapRun:<{batch}.Name>/*"),
    }


def test_post_uploads_is_served_by_the_status_function_which_may_write_only_uploads(template: dict[str, Any]) -> None:
    upload = api_methods(template)["POST /uploads"]
    assert upload["AuthorizationType"] == "AWS_IAM" and "RequestValidatorId" in upload
    assert upload["Integration"]["Type"] == "AWS_PROXY"
    [(status_id, status)] = [
        (k, f) for k, f in resources(template, "AWS::Lambda::Function").items() if "StatusFunction" in k
    ]
    assert status_id in json.dumps(upload["Integration"]["Uri"])
    assert status["Properties"]["Environment"]["Variables"]["UPLOADS_PREFIX"] == "uploads"
    bucket = images_bucket(template)
    writes = [
        statement["Resource"]
        for name, policy in resources(template, "AWS::IAM::Policy").items()
        if "Status" in name
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutObject" in statement["Action"]
    ]
    assert writes == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/uploads/*"]]}]


def test_uploads_expire_after_a_week(template: dict[str, Any]) -> None:
    [bucket] = [b for k, b in resources(template, "AWS::S3::Bucket").items() if "Images" in k]
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireUploads"] == {
        "Id": "ExpireUploads",
        "Prefix": "uploads/",
        "ExpirationInDays": 7,
        "Status": "Enabled",
    }


def test_the_body_schema_takes_an_image_as_an_s3_uri_or_an_object() -> None:
    import jsonschema

    schema = jsonschema.Draft4Validator(request_schema())
    for image in ("s3://bucket/uploads/photo.png", {"bucket": "bucket", "key": "uploads/photo.png"}):
        schema.validate({"prompt": "add a sheep", "mode": "image-to-image", "source_image": image})
    for wrong in ("https://bucket/photo.png", "s3://Bucket/photo.png", "s3://bucket/", {"bucket": "bucket"}):
        assert not schema.is_valid({"prompt": "x", "mode": "image-to-image", "source_image": wrong}), wrong


def test_access_logging_tracing_and_throttling_are_on(template: dict[str, Any]) -> None:
    [stage] = resources(template, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert "DestinationArn" in props["AccessLogSetting"] and "$context.requestId" in props["AccessLogSetting"]["Format"]
    assert props["TracingEnabled"] is True
    [settings] = props["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["ThrottlingRateLimit"] == 10 and settings["ThrottlingBurstLimit"] == 20


@pytest.mark.parametrize("method", STARTS)
def test_each_post_may_only_start_its_own_state_machine(method: str, template: dict[str, Any]) -> None:
    role = api_methods(template)[method]["Integration"]["Credentials"]["Fn::GetAtt"][0]

    assert role_statements(template, role) == [
        {
            "Action": "states:StartExecution",
            "Effect": "Allow",
            "Resource": {"Ref": state_machine(template, STARTS[method][0])[0]},
        }
    ]


def test_a_rejected_body_is_answered_400_naming_the_field(template: dict[str, Any]) -> None:
    [response] = resources(template, "AWS::ApiGateway::GatewayResponse").values()
    props = response["Properties"]
    assert props["ResponseType"] == "BAD_REQUEST_BODY" and props["StatusCode"] == "400"
    assert "$context.error.validationErrorString" in props["ResponseTemplates"]["application/json"]


def test_api_key_mode_keys_every_method_and_throttles_a_usage_plan(
    variant: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, report = variant
    methods = api_methods(template)
    assert all(m["AuthorizationType"] == "NONE" and m["ApiKeyRequired"] is True for m in methods.values())
    [plan] = resources(template, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 10, "RateLimit": 5}
    [key] = resources(template, "AWS::ApiGateway::ApiKey")
    assert template["Outputs"]["ApiKeyId"] == {"Value": {"Ref": key}}
    assert all(p["conclusion"] == "success" for p in report["pluginReports"])


def test_the_api_url_output_has_no_trailing_slash(template: dict[str, Any]) -> None:
    url = joined(template["Outputs"]["ApiUrl"]["Value"], placeholder)

    assert url == "https://<ApiCD79AAA0>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<ApiDeploymentStagev1149A6FAE>"

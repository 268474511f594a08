"""The HTTP API as synthesized: methods, authorization, validation, integration and logging."""

import json
from pathlib import Path
from typing import Any

from common.schema import request_schema


def _of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _methods(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["Properties"]["HttpMethod"]: m["Properties"] for m in _of(template, "AWS::ApiGateway::Method").values()}


def test_post_starts_an_execution_directly_and_answers_202(template: dict[str, Any]) -> None:
    post = _methods(template)["POST"]
    integration = post["Integration"]
    assert integration["Type"] == "AWS"
    assert json.dumps(integration["Uri"]).count(":states:action/StartExecution") == 1
    request = json.dumps(integration["RequestTemplates"]["application/json"])
    assert "Idempotency-Key" in request and "idempotency_key" in request and "$context.requestId" in request
    assert "$util.escapeJavaScript($input.json('$'))" in request
    codes = {r["StatusCode"]: r for r in integration["IntegrationResponses"]}
    assert set(codes) == {"202", "400", "502"}
    assert "responseOverride.status = 409" in codes["400"]["ResponseTemplates"]["application/json"]
    assert "ExecutionAlreadyExists" in codes["400"]["ResponseTemplates"]["application/json"]


def test_every_method_is_iam_authorized_and_validated(template: dict[str, Any]) -> None:
    methods = _methods(template)
    assert set(methods) == {"POST", "GET"}
    assert all(m["AuthorizationType"] == "AWS_IAM" for m in methods.values())
    [validator] = _of(template, "AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert all("RequestValidatorId" in m for m in methods.values())
    assert methods["GET"]["RequestParameters"] == {"method.request.path.id": True}
    assert methods["GET"]["Integration"]["Type"] == "AWS_PROXY"


def test_the_body_schema_is_the_workflows_own(template: dict[str, Any]) -> None:
    [model] = _of(template, "AWS::ApiGateway::Model").values()
    assert model["Properties"]["Schema"] == request_schema()
    assert _methods(template)["POST"]["RequestModels"] == {
        "application/json": {"Ref": next(iter(_of(template, "AWS::ApiGateway::Model")))}
    }


def test_access_logging_tracing_and_throttling_are_on(template: dict[str, Any]) -> None:
    [stage] = _of(template, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert "DestinationArn" in props["AccessLogSetting"] and "$context.requestId" in props["AccessLogSetting"]["Format"]
    assert props["TracingEnabled"] is True
    [settings] = props["MethodSettings"]
    assert settings["LoggingLevel"] == "ERROR"
    assert settings["ThrottlingRateLimit"] == 10 and settings["ThrottlingBurstLimit"] == 20


def test_the_api_may_only_start_this_state_machine(template: dict[str, Any]) -> None:
    statements = [
        s
        for p in _of(template, "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Action"] == "states:StartExecution"
    ]
    assert len(statements) == 1
    [machine] = _of(template, "AWS::StepFunctions::StateMachine")
    assert statements[0]["Resource"] == {"Ref": machine}


def test_a_rejected_body_is_answered_400_naming_the_field(template: dict[str, Any]) -> None:
    [response] = _of(template, "AWS::ApiGateway::GatewayResponse").values()
    props = response["Properties"]
    assert props["ResponseType"] == "BAD_REQUEST_BODY" and props["StatusCode"] == "400"
    assert "$context.error.validationErrorString" in props["ResponseTemplates"]["application/json"]


def test_api_key_mode_keys_every_method_and_throttles_a_usage_plan(tmp_path: Path) -> None:
    from infra.app import build_app

    build_app(str(tmp_path), {"imgloop:api_auth": "api_key"}).synth()
    template = json.loads((tmp_path / "ImageLoop.template.json").read_text())
    methods = _methods(template)
    assert all(m["AuthorizationType"] == "NONE" and m["ApiKeyRequired"] is True for m in methods.values())
    [plan] = _of(template, "AWS::ApiGateway::UsagePlan").values()
    assert plan["Properties"]["Throttle"] == {"BurstLimit": 10, "RateLimit": 5}
    assert len(_of(template, "AWS::ApiGateway::ApiKey")) == 1
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(p["conclusion"] == "success" for p in report["pluginReports"])

"""The HTTP API as synthesized: methods, authorization, validation, integration and logging, and its
mapping templates executed on the requests and answers they meet."""

import json
from pathlib import Path
from typing import Any

import airspeed  # type: ignore[import-untyped]
import pytest
from airspeed import operators as airspeed_operators

from common.schema import request_schema


def _of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def _path(template: dict[str, Any], resource_id: dict[str, Any]) -> str:
    """A method's resource as its path, e.g. /generations/{id}."""
    if "Ref" not in resource_id:
        return ""  # the API's root resource
    resource = template["Resources"][resource_id["Ref"]]["Properties"]
    return f"{_path(template, resource['ParentId'])}/{resource['PathPart']}"


def _methods(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each method by its verb and path, e.g. "POST /generations"."""
    return {
        f"{m['Properties']['HttpMethod']} {_path(template, m['Properties']['ResourceId'])}": m["Properties"]
        for m in _of(template, "AWS::ApiGateway::Method").values()
    }


def test_post_starts_an_execution_directly_and_answers_202(template: dict[str, Any]) -> None:
    post = _methods(template)["POST /generations"]
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
    assert set(methods) == {"POST /generations", "GET /generations/{id}", "POST /uploads"}
    assert all(m["AuthorizationType"] == "AWS_IAM" for m in methods.values())
    [validator] = _of(template, "AWS::ApiGateway::RequestValidator").values()
    assert validator["Properties"]["ValidateRequestBody"] is True
    assert all("RequestValidatorId" in m for m in methods.values())
    assert methods["GET /generations/{id}"]["RequestParameters"] == {"method.request.path.id": True}
    assert methods["GET /generations/{id}"]["Integration"]["Type"] == "AWS_PROXY"


def test_the_body_schema_is_the_workflows_own(template: dict[str, Any]) -> None:
    [model] = _of(template, "AWS::ApiGateway::Model").values()
    assert model["Properties"]["Schema"] == request_schema()
    assert _methods(template)["POST /generations"]["RequestModels"] == {
        "application/json": {"Ref": next(iter(_of(template, "AWS::ApiGateway::Model")))}
    }


def test_post_uploads_is_served_by_the_status_function_which_may_write_only_uploads(template: dict[str, Any]) -> None:
    upload = _methods(template)["POST /uploads"]
    assert upload["AuthorizationType"] == "AWS_IAM" and "RequestValidatorId" in upload
    assert upload["Integration"]["Type"] == "AWS_PROXY"
    [(status_id, status)] = [(k, f) for k, f in _of(template, "AWS::Lambda::Function").items() if "StatusFunction" in k]
    assert status_id in json.dumps(upload["Integration"]["Uri"])
    assert status["Properties"]["Environment"]["Variables"]["UPLOADS_PREFIX"] == "uploads"
    [bucket] = [k for k in _of(template, "AWS::S3::Bucket") if "Images" in k]
    writes = [
        statement["Resource"]
        for name, policy in _of(template, "AWS::IAM::Policy").items()
        if "Status" in name
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "s3:PutObject" in statement["Action"]
    ]
    assert writes == [{"Fn::Join": ["", [{"Fn::GetAtt": [bucket, "Arn"]}, "/uploads/*"]]}]


def test_uploads_expire_after_a_week(template: dict[str, Any]) -> None:
    [bucket] = [b for k, b in _of(template, "AWS::S3::Bucket").items() if "Images" in k]
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
    [key] = _of(template, "AWS::ApiGateway::ApiKey")
    assert template["Outputs"]["ApiKeyId"] == {"Value": {"Ref": key}}
    report = json.loads((tmp_path / "validation-report.json").read_text())
    assert all(p["conclusion"] == "success" for p in report["pluginReports"])


# The mapping templates, executed: airspeed-ext renders Velocity as API Gateway does (a null in #if
# counts as true there, for one), once given stand-ins for $input, $util and $context.
MACHINE = "arn:aws:states:us-west-2:123456789012:stateMachine:ImageLoop"
REQUEST_ID = "c0ffee00-1234-4d2b-9a6f-000000000001"


@pytest.fixture
def velocity(monkeypatch: pytest.MonkeyPatch) -> None:
    """Java's String methods as the templates use them: indexOf and lastIndexOf answer -1 when not found."""
    methods = airspeed_operators.__additional_methods__[str]
    monkeypatch.setitem(methods, "indexOf", lambda text, part: text.find(part))
    monkeypatch.setitem(methods, "lastIndexOf", lambda text, part: text.rfind(part))


def _escape_javascript(text: str) -> str:
    """$util.escapeJavaScript: commons-lang's JavaScript string rules, over Java's UTF-16 chars."""
    named = {"'": "\\'", '"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\n": "\\n", "\t": "\\t", "\f": "\\f"}
    named["\r"] = "\\r"
    encoded = text.encode("utf-16-be", "surrogatepass")
    escaped = []
    for unit in (int.from_bytes(encoded[i : i + 2], "big") for i in range(0, len(encoded), 2)):
        char = chr(unit)
        if char in named:
            escaped.append(named[char])
        elif unit < 0x20 or unit > 0x7F:
            escaped.append(f"\\u{unit:04X}")
        else:
            escaped.append(char)
    return "".join(escaped)


class _Util:
    def escapeJavaScript(self, value: Any) -> str:
        return _escape_javascript(str(value))


class _Input:
    """$input: the body (JSON) and the request's headers."""

    def __init__(self, body: Any, headers: dict[str, str] | None = None) -> None:
        self._body = body
        self._headers = headers or {}

    def path(self, expression: str) -> Any:
        value = self._body
        for part in expression.split(".")[1:]:
            value = value.get(part) if isinstance(value, dict) else None
        return value

    def json(self, expression: str) -> str:
        return json.dumps(self.path(expression), ensure_ascii=False, separators=(",", ":"))

    def params(self) -> dict[str, dict[str, str]]:
        return {"header": dict(self._headers), "path": {}, "querystring": {}}


def _text(template: dict[str, Any], value: Any) -> str:
    """A value as deployed: Fn::Join resolved, the state machine's Ref as its ARN, other Refs as <name>."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        machine = template["Resources"].get(value["Ref"], {}).get("Type") == "AWS::StepFunctions::StateMachine"
        return MACHINE if machine else f"<{value['Ref']}>"
    separator, parts = value["Fn::Join"]
    return str(separator).join(_text(template, part) for part in parts)


def _integration(template: dict[str, Any]) -> dict[str, Any]:
    return dict(_methods(template)["POST /generations"]["Integration"])


def _render(text: str, input: _Input, context: dict[str, Any] | None = None) -> str:
    namespace = {"input": input, "util": _Util(), "context": context or {"requestId": REQUEST_ID}}
    return str(airspeed.Template(text).merge(namespace))


def _start_request(template: dict[str, Any], body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    text = _text(template, _integration(template)["RequestTemplates"]["application/json"])
    return dict(json.loads(_render(text, _Input(body, headers))))


TEXTS = {
    "quotes": 'He said "no" and "yes"',
    "apostrophes": "it's Bob's 'cover'",
    "newlines": "line one\nline two\r\n\ttabbed",
    "backslashes": "C:\\images\\'quoted' \\n not a newline",
    "emoji": "a cat 🐈 travelling to the end of the universe 🚀✨",
    "Japanese": "夜空を旅する猫、「人なし」",
    "markup and slashes": "</script><b>&amp;</b> a/b",
}


@pytest.mark.parametrize("case", TEXTS)
def test_start_passes_the_body_through_unchanged(case: str, template: dict[str, Any], velocity: None) -> None:
    body = {"prompt": TEXTS[case], "negative_prompt": TEXTS[case], "max_retry_attempts": 2}

    request = _start_request(template, body)

    assert request["stateMachineArn"] == MACHINE
    assert json.loads(request["input"]) == body
    assert request["name"] == REQUEST_ID


@pytest.mark.parametrize(
    ("headers", "body_key", "name"),
    [
        ({"Idempotency-Key": "cover-2026-11-21"}, None, "cover-2026-11-21"),
        ({"idempotency-key": "cover-lower"}, None, "cover-lower"),
        ({}, "from-the-body", "from-the-body"),
        ({"Idempotency-Key": "from-the-header"}, "from-the-body", "from-the-header"),
        ({}, None, REQUEST_ID),
    ],
    ids=["header", "lower-case header", "body", "both: the header wins", "neither: the request id"],
)
def test_the_idempotency_key_names_the_execution(
    headers: dict[str, str], body_key: str | None, name: str, template: dict[str, Any], velocity: None
) -> None:
    body: dict[str, Any] = {"prompt": "a red bicycle"}
    if body_key:
        body["idempotency_key"] = body_key

    request = _start_request(template, body, headers)

    assert request["name"] == name
    assert json.loads(request["input"]) == body


def test_a_header_key_step_functions_will_refuse_still_makes_a_valid_request(
    template: dict[str, Any], velocity: None
) -> None:
    request = _start_request(template, {"prompt": "x"}, {"Idempotency-Key": 'it\'s "mine"\n'})

    assert request["name"] == 'it\'s "mine"\n'  # Step Functions answers 400 InvalidName, passed on below


def _answer(template: dict[str, Any], status: str, sfn_body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    [response] = [r for r in _integration(template)["IntegrationResponses"] if r["StatusCode"] == status]
    context: dict[str, Any] = {"requestId": REQUEST_ID, "responseOverride": {}}
    rendered = _render(_text(template, response["ResponseTemplates"]["application/json"]), _Input(sfn_body), context)
    return json.loads(rendered), context["responseOverride"]


def test_started_answers_the_id_arn_and_start_date(template: dict[str, Any], velocity: None) -> None:
    arn = "arn:aws:states:us-west-2:123456789012:execution:ImageLoop:cover-2026-11-21"

    answer, override = _answer(template, "202", {"executionArn": arn, "startDate": 1795000000.5})

    assert answer == {"id": "cover-2026-11-21", "executionArn": arn, "startDate": "1795000000.5"}
    assert override == {}


def test_a_used_key_is_answered_409(template: dict[str, Any], velocity: None) -> None:
    used = {
        "__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists",
        "message": "Execution Already Exists: 'arn:aws:states:us-west-2:123456789012:execution:ImageLoop:k'",
    }

    answer, override = _answer(template, "400", used)

    assert override == {"status": 409}
    assert answer["message"].startswith("idempotency key already used")


@pytest.mark.parametrize(
    "refusal",
    [
        {"__type": "com.amazonaws.swf.service.v2.model#InvalidName", "message": "Invalid Name: 'it's \"mine\"'"},
        {"message": "no type: Step Functions' answer without __type"},
    ],
    ids=["another error, quotes in its message", "an error without a type"],
)
def test_other_refusals_stay_400_with_step_functions_message(
    refusal: dict[str, str], template: dict[str, Any], velocity: None
) -> None:
    answer, override = _answer(template, "400", refusal)

    assert override == {}
    assert answer == {"message": refusal["message"]}


def test_a_rejected_body_names_the_rule_in_valid_json(template: dict[str, Any], velocity: None) -> None:
    [response] = _of(template, "AWS::ApiGateway::GatewayResponse").values()
    rule = """[instance value ("it's") not found in enum (possible values: ["1:1","16:9"])]"""

    rendered = _render(
        response["Properties"]["ResponseTemplates"]["application/json"],
        _Input({}),
        {"error": {"validationErrorString": rule}},
    )

    assert json.loads(rendered) == {"message": rule}


def test_the_api_url_output_has_no_trailing_slash(template: dict[str, Any]) -> None:
    url = _text(template, template["Outputs"]["ApiUrl"]["Value"])

    assert url == "https://<ApiCD79AAA0>.execute-api.<AWS::Region>.<AWS::URLSuffix>/<ApiDeploymentStagev1149A6FAE>"

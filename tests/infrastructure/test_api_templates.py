"""The API's mapping templates, executed on the requests and answers they meet: airspeed-ext renders
Velocity as API Gateway does (a null in #if counts as true there, for one), once given stand-ins for
$input, $util and $context."""

import json
from typing import Any

import airspeed  # type: ignore[import-untyped]
import pytest
from airspeed import operators as airspeed_operators

from imgloop.local.assembly import BATCH_MACHINE, LOOP_MACHINE
from tests.infrastructure.helpers import STARTS, api_methods, joined, placeholder, resources

MACHINE = "arn:aws:states:us-west-2:123456789012:stateMachine:ImageLoop"
BATCH_MACHINE_ARN = "arn:aws:states:us-west-2:123456789012:stateMachine:ImageLoop-batches"
ARNS = {LOOP_MACHINE: MACHINE, BATCH_MACHINE: BATCH_MACHINE_ARN}
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


def _text(value: Any) -> str:
    """A value as deployed: Fn::Join resolved, a state machine's Ref as its ARN, other Refs as <name>."""

    def arn_or_placeholder(intrinsic: dict[str, Any]) -> str:
        ref = str(intrinsic.get("Ref", ""))
        return next((arn for prefix, arn in ARNS.items() if ref.startswith(prefix)), None) or placeholder(intrinsic)

    return joined(value, arn_or_placeholder)


def _integration(template: dict[str, Any], method: str) -> dict[str, Any]:
    return dict(api_methods(template)[method]["Integration"])


def _render(text: str, input: _Input, context: dict[str, Any] | None = None) -> str:
    namespace = {"input": input, "util": _Util(), "context": context or {"requestId": REQUEST_ID}}
    return str(airspeed.Template(text).merge(namespace))


def _start_request(
    template: dict[str, Any], body: Any, headers: dict[str, str] | None = None, method: str = "POST /generations"
) -> dict[str, Any]:
    text = _text(_integration(template, method)["RequestTemplates"]["application/json"])
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


@pytest.mark.parametrize("case", TEXTS)
def test_a_batch_start_passes_inline_items_and_defaults_through_unchanged(
    case: str, template: dict[str, Any], velocity: None
) -> None:
    body = {
        "batch": "covers-2026",
        "items": [TEXTS[case], {"id": "second", "prompt": TEXTS[case], "generator": {"seed": 7}}],
        "defaults": {"negative_prompt": TEXTS[case], "max_retry_attempts": 2},
        "concurrency": 2,
    }

    request = _start_request(template, body, method="POST /batches")

    assert request["stateMachineArn"] == BATCH_MACHINE_ARN
    assert json.loads(request["input"]) == body
    assert request["name"] == REQUEST_ID


def test_a_batch_from_a_file_is_started_with_its_reference_unchanged(template: dict[str, Any], velocity: None) -> None:
    body = {"input": {"bucket": "stack-bucket", "key": "uploads/3f0c.csv"}, "defaults": {"prompt_template": "{}"}}

    request = _start_request(template, body, {"Idempotency-Key": "spring-covers"}, "POST /batches")

    assert (request["stateMachineArn"], request["name"]) == (BATCH_MACHINE_ARN, "spring-covers")
    assert json.loads(request["input"]) == body


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


def _answer(
    template: dict[str, Any], status: str, sfn_body: dict[str, Any], method: str = "POST /generations"
) -> tuple[dict[str, Any], dict[str, Any]]:
    [response] = [r for r in _integration(template, method)["IntegrationResponses"] if r["StatusCode"] == status]
    context: dict[str, Any] = {"requestId": REQUEST_ID, "responseOverride": {}}
    rendered = _render(_text(response["ResponseTemplates"]["application/json"]), _Input(sfn_body), context)
    return json.loads(rendered), context["responseOverride"]


@pytest.mark.parametrize("method", STARTS)
def test_started_answers_the_id_arn_and_start_date(method: str, template: dict[str, Any], velocity: None) -> None:
    machine = ARNS[STARTS[method][0]]
    arn = machine.replace(":stateMachine:", ":execution:") + ":cover-2026-11-21"

    answer, override = _answer(template, "202", {"executionArn": arn, "startDate": 1795000000.5}, method)

    assert answer == {"id": "cover-2026-11-21", "executionArn": arn, "startDate": "1795000000.5"}
    assert override == {}


@pytest.mark.parametrize("method", STARTS)
def test_a_used_key_is_answered_409_naming_the_get_that_answers_for_it(
    method: str, template: dict[str, Any], velocity: None
) -> None:
    used = {
        "__type": "com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists",
        "message": "Execution Already Exists: 'arn:aws:states:us-west-2:123456789012:execution:ImageLoop:k'",
    }

    answer, override = _answer(template, "400", used, method)

    assert override == {"status": 409}
    assert answer == {
        "message": f"idempotency key already used (the run ended, or had another body): GET {STARTS[method][1]}/{{key}}"
    }


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
    [response] = resources(template, "AWS::ApiGateway::GatewayResponse").values()
    rule = """[instance value ("it's") not found in enum (possible values: ["1:1","16:9"])]"""

    rendered = _render(
        response["Properties"]["ResponseTemplates"]["application/json"],
        _Input({}),
        {"error": {"validationErrorString": rule}},
    )

    assert json.loads(rendered) == {"message": rule}

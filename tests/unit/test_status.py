"""GET /generations/{id}: status, result and a presigned image URL; 400 and 404 named."""

import json
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from tests.conftest import load_event

MACHINE = "arn:aws:states:us-west-2:123456789012:stateMachine:ImageLoop"


def _get(name: str, method: str = "GET") -> dict[str, Any]:
    """The event API Gateway's Lambda proxy integration sends for `GET /generations/{id}`."""
    path = f"/generations/{quote(name, safe='')}"
    return {
        "resource": "/generations/{id}",
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"]},
        "queryStringParameters": None,
        "pathParameters": {"id": name},
        "requestContext": {"requestId": "req-1", "stage": "v1", "path": f"/v1{path}", "httpMethod": method},
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def context() -> Any:
    from imgloop.local_lambda import LambdaContext

    return LambdaContext("StatusFunction", "arn:aws:lambda:us-west-2:123456789012:function:StatusFunction")


def test_a_finished_run_answers_with_its_output_and_a_presigned_url(
    runner: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = runner()
    run.run(load_event("small_budget.json"), "api-run-1")
    from status.handler import handler

    from common import clients

    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    clients.stepfunctions.cache_clear()
    answer = handler(_get("api-run-1"), context)

    assert answer["statusCode"] == 200
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    body = json.loads(answer["body"])
    assert body["status"] == "SUCCEEDED" and body["id"] == "api-run-1"
    assert body["output"]["key"] == "generated-images/api-run-1/r00-a01.png"
    url = urlparse(body["image_url"])
    assert url.path.endswith("/generated-images/api-run-1/r00-a01.png")
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]


def test_unknown_and_malformed_ids(aws: None, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from status.handler import handler

    from common import clients

    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    clients.stepfunctions.cache_clear()
    boto3.client("stepfunctions").create_state_machine(
        name="ImageLoop",
        definition='{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
        roleArn="arn:aws:iam::123456789012:role/r",
    )
    missing = handler(_get("never-started"), context)
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"]) == {"message": "no generation with id never-started"}
    bad = handler(_get("../etc/passwd"), context)
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["message"].startswith("id: must be")
    assert handler(_get("api-run-1", "DELETE"), context)["statusCode"] == 404  # only GET is routed

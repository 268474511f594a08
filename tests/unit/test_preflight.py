"""The pre-flight check: Bedrock's lifecycle status per model, with the successor to move to."""

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from imgloop import cli
from imgloop.preflight import check_models
from tests.conftest import EVENTS


def _details(model_id: str, status: str) -> dict[str, Any]:
    return {
        "modelDetails": {
            "modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{model_id}",
            "modelId": model_id,
            "modelLifecycle": {"status": status},
        }
    }


def test_statuses_and_successors() -> None:
    client = boto3.client("bedrock", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    stub.add_response(
        "get_foundation_model",
        _details("stability.sd3-5-large-v1:0", "ACTIVE"),
        {"modelIdentifier": "stability.sd3-5-large-v1:0"},
    )
    stub.add_response(
        "get_foundation_model",
        _details("anthropic.claude-sonnet-4-5-20250929-v1:0", "LEGACY"),
        {"modelIdentifier": "anthropic.claude-sonnet-4-5-20250929-v1:0"},
    )
    stub.add_client_error("get_foundation_model", "ResourceNotFoundException", "not found", 404)
    with stub:
        checks = check_models(
            client,
            {
                "generator": "stability.sd3-5-large-v1:0",
                "validator": "us.anthropic.claude-sonnet-4-5-20250929-v1:0",
                "reviser": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
            },
        )
    assert [c.status for c in checks] == ["ACTIVE", "LEGACY", "UNAVAILABLE"]
    assert checks[1].detail == "Bedrock marks it legacy; successor: anthropic.claude-sonnet-4-6"
    assert checks[2].detail == (
        "Bedrock does not serve anthropic.claude-3-7-sonnet-20250219-v1:0 here; successor: anthropic.claude-sonnet-4-6"
    )


def test_the_command_checks_what_an_event_resolves_to(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    asked: list[str] = []

    class Bedrock:
        def get_foundation_model(self, modelIdentifier: str) -> dict[str, Any]:
            asked.append(modelIdentifier)
            return _details(modelIdentifier, "ACTIVE")

    monkeypatch.setattr("boto3.client", lambda *args, **kwargs: Bedrock())
    assert cli.main(["check-models", "--input", str(EVENTS / "s3_example.json"), "--region", "us-west-2"]) == 0
    assert asked == ["amazon.nova-canvas-v1:0", "amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"]
    assert "ACTIVE      generator amazon.nova-canvas-v1:0: served" in capsys.readouterr().out

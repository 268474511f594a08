"""The pre-flight check: Bedrock's lifecycle status per model, with the successor to move to."""

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from imgloop import cli
from imgloop.cli.preflight import ModelCheck, check_models, conclusion
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


class _Session:
    """A boto3 session whose only client is the given Bedrock fake."""

    def __init__(self, bedrock: Any) -> None:
        self.bedrock = bedrock

    def client(self, service: str) -> Any:
        assert service == "bedrock"
        return self.bedrock


def test_the_command_checks_what_an_event_resolves_to(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    asked: list[str] = []

    class Bedrock:
        def get_foundation_model(self, modelIdentifier: str) -> dict[str, Any]:
            asked.append(modelIdentifier)
            return _details(modelIdentifier, "ACTIVE")

    monkeypatch.setattr("imgloop.cli.preflight.aws_session", lambda region: _Session(Bedrock()))
    assert cli.main(["check-models", "--input", str(EVENTS / "s3_example.json"), "--region", "us-west-2"]) == 0
    assert asked == ["amazon.nova-canvas-v1:0", "amazon.nova-pro-v1:0", "amazon.nova-pro-v1:0"]
    assert "ACTIVE      generator amazon.nova-canvas-v1:0: served" in capsys.readouterr().out


def test_the_gate_fails_when_bedrock_could_not_be_asked(monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    client = boto3.client("bedrock", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    stub = Stubber(client)
    for _ in range(3):
        stub.add_client_error(
            "get_foundation_model", "AccessDeniedException", "not authorized to GetFoundationModel", 403
        )
    monkeypatch.setattr("imgloop.cli.preflight.aws_session", lambda region: _Session(client))

    with stub:
        code = cli.main(["check-models", "--region", "us-west-2"])

    out, err = capsys.readouterr()
    assert code == 1
    assert out.count("UNKNOWN") == 3
    assert err == (
        "nothing was checked: could not ask Bedrock: AccessDeniedException: not authorized to GetFoundationModel\n"
    )


def _check(status: str) -> ModelCheck:
    return ModelCheck("generator", "m", status, "could not ask Bedrock: Throttling: slow down")


@pytest.mark.parametrize(
    ("statuses", "code", "closing"),
    [
        (["ACTIVE", "ACTIVE"], 0, None),
        (["ACTIVE", "LEGACY"], 0, "1 model(s) still served but on the way out: plan the move to the successor"),
        (["ACTIVE", "UNAVAILABLE"], 1, "1 model(s) not served: move to the successor named above"),
        (["ACTIVE", "UNKNOWN"], 1, "1 model(s) could not be checked (see above)"),
        (["UNKNOWN", "UNKNOWN"], 1, "nothing was checked: could not ask Bedrock: Throttling: slow down"),
    ],
)
def test_the_gate_passes_only_when_every_model_was_seen_served(
    statuses: list[str], code: int, closing: str | None
) -> None:
    assert conclusion([_check(s) for s in statuses]) == (code, closing)

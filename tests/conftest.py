"""Shared fixtures: one CDK synthesis per test run, moto accounts, and the local runner."""

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-west-2")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

EVENTS = Path(__file__).parent / "events"


def load_event(name: str) -> dict[str, Any]:
    return dict(json.loads((EVENTS / name).read_text()))


@pytest.fixture(scope="session")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from imgloop.local.assembly import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template(assembly: Path) -> dict[str, Any]:
    from imgloop.local.assembly import template as read_template

    return read_template(assembly)


@pytest.fixture
def aws() -> Iterator[None]:
    """A moto account that stays open for the whole test, so tests can look into S3 afterwards."""
    with mock_aws():
        yield


@pytest.fixture
def s3(aws: None) -> Any:
    return boto3.client("s3", region_name="us-west-2")


@pytest.fixture
def runner(assembly: Path, aws: None) -> Callable[..., Any]:
    from imgloop.local.runner import LocalRunner
    from imgloop.local.standin.service import Scenario

    def make(**scenario: Any) -> LocalRunner:
        return LocalRunner(assembly, Scenario(**scenario))

    return make


@pytest.fixture
def standin(aws: None) -> Any:
    """The Bedrock stand-in on the default session, where the functions' cached clients come from."""
    from common import clients
    from imgloop.local.standin.service import BedrockStandIn

    boto3.setup_default_session(region_name="us-west-2")
    fake = BedrockStandIn()
    assert boto3.DEFAULT_SESSION is not None
    fake.register(boto3.DEFAULT_SESSION.events)
    clients.bedrock.cache_clear()
    clients.s3.cache_clear()
    return fake


@pytest.fixture
def settings(monkeypatch: pytest.MonkeyPatch) -> Any:
    from common.settings import current

    values = {
        "OUTPUT_BUCKET": "stack-bucket",
        "EXTRA_OUTPUT_BUCKETS": "",
        # A local run earlier in the session leaves its functions' environment behind: no allow-list here.
        "ALLOWED_MODELS": "",
        "GENERATOR_MODEL_ID": "stability.sd3-5-large-v1:0",
        "VALIDATOR_MODEL_ID": "us.anthropic.claude-sonnet-4-6",
        "REVISER_MODEL_ID": "us.anthropic.claude-sonnet-4-6",
        "AWS_REGION": "us-west-2",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return current()

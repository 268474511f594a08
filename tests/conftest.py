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
    from imgloop.assembly import synthesize

    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def template(assembly: Path) -> dict[str, Any]:
    from imgloop.assembly import template as read_template

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
    from imgloop.local import LocalRunner
    from imgloop.standin import Scenario

    def make(**scenario: Any) -> LocalRunner:
        return LocalRunner(assembly, Scenario(**scenario))

    return make

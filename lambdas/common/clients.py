"""AWS clients, created once per container and handed to the logic as parameters."""

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

# The state machine owns retries (with backoff and jitter, visible in the history), so the SDK
# makes one try only; image models can take tens of seconds to answer.
_BEDROCK = Config(retries={"total_max_attempts": 1}, read_timeout=110, connect_timeout=5)


@cache
def bedrock() -> Any:
    return boto3.client("bedrock-runtime", config=_BEDROCK)


@cache
def s3() -> Any:
    # S3's own 5xx and SlowDown answers are retried by the SDK: they say nothing about the run.
    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}, signature_version="s3v4"))


@cache
def stepfunctions() -> Any:
    return boto3.client("stepfunctions")


@cache
def service_quotas() -> Any:
    # Read once per batch, at its start: a fault here only makes the plan fall back to its defaults.
    return boto3.client("service-quotas", config=Config(retries={"mode": "standard", "max_attempts": 3}))

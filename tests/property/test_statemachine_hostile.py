"""Hostile requests through the real state machine (moto's interpreter, the synthesized definition, the
real handlers): each ends FAILED with the error InvalidInput right after the input check, its cause the
short message without a stack trace, and nothing written to S3 or asked of Bedrock."""

import itertools
import json
import re
from pathlib import Path
from typing import Any

import boto3
from hypothesis import assume, example, given, settings
from moto import mock_aws

from common.errors import InvalidInput
from common.settings import Settings
from imgloop.local.runner import LocalRunner, _named_bucket
from tests.property.checks import assert_clean_rejection, classify, request_field_names
from tests.property.strategies import near_valid_requests

REJECTED_STATES = ["Check input", "Explain rejected input", "Input rejected"]
_names = itertools.count(1)


def local_settings(runner: LocalRunner, event: Any) -> Settings:
    """What the Save function's input check will use in this local run (as LocalRunner prepares it)."""
    spec = next(s for s in runner.workflow.functions.values() if s.handler.startswith("save."))
    env = spec.environment
    named = _named_bucket(event)
    extra = (named,) if named and named != runner.names.bucket else ()
    return Settings(
        output_bucket=env["OUTPUT_BUCKET"],
        region=runner.names.region,
        generator_model_id=env["GENERATOR_MODEL_ID"],
        validator_model_id=env["VALIDATOR_MODEL_ID"],
        reviser_model_id=env["REVISER_MODEL_ID"],
        extra_output_buckets=extra,
        allowed_models=tuple(m for m in env.get("ALLOWED_MODELS", "").split(",") if m),
    )


def plain_json(raw: Any) -> bool:
    """What StartExecution takes: strict JSON (no NaN) well under the 256 KB input limit."""
    try:
        return len(json.dumps(raw, allow_nan=False)) < 100_000
    except ValueError:
        return False


def runner_can_prepare(raw: Any) -> bool:
    """LocalRunner creates the bucket a request names; botocore refuses some names before S3 sees them
    (see the regression test below)."""
    named = _named_bucket(raw)
    return named is None or re.fullmatch(r"[a-zA-Z0-9.\-_]{1,255}", named) is not None


@settings(max_examples=12)
@given(near_valid_requests())
@example({"prompt": "a", "output_s3_key_prefix": "../x"})
@example({"prompt": "a\x07b", "max_retry_attempts": 10, "max_prompt_revisions": 10, "candidates": 4})
def test_a_rejected_request_fails_the_execution_as_invalid_input_and_does_nothing_else(
    assembly: Path, raw: dict[str, Any]
) -> None:
    assume(plain_json(raw) and runner_can_prepare(raw))
    runner = LocalRunner(assembly)
    assume(isinstance(classify(raw, local_settings(runner, raw)), InvalidInput))

    with mock_aws():
        result = runner.run(raw, f"hostile-{next(_names)}")
        s3 = boto3.client("s3", region_name=runner.names.region)
        objects = [
            f"{bucket['Name']}/{item['Key']}"
            for bucket in s3.list_buckets()["Buckets"]
            for item in s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        ]

    assert result.status == "FAILED" and result.error == "InvalidInput", result.summary()
    assert result.cause is not None
    assert "stackTrace" not in result.cause
    assert_clean_rejection(InvalidInput(result.cause), raw, request_field_names(raw))
    assert result.states_entered() == REJECTED_STATES
    assert not [e for e in result.history if "States.Runtime" in json.dumps(e, default=str)]
    assert objects == []
    assert runner.standin.calls == []


def test_the_s3_number_of_images_key_alone_picks_nova_canvas_and_so_its_successor(assembly: Path) -> None:
    """Found by the request properties: this key on its own once crashed the input check (KeyError),
    and later stopped picking Nova Canvas. Nova Canvas is retired, so its successor draws."""
    runner = LocalRunner(assembly)
    with mock_aws():
        result = runner.run({"prompt": "a red bicycle", "nova_canvas_number_of_images": 2}, "lone-images-key")
    assert result.status == "SUCCEEDED", result.summary()
    assert {call.model_id for call in runner.standin.calls_of("InvokeModel")} == {"stability.sd3-5-large-v1:0"}
    assert result.output is not None
    [substitution] = result.output["substitutions"]
    assert substitution.startswith("generator: amazon.nova-canvas-v1:0 is retired on Bedrock")


def test_fixed_bug_a_bucket_name_botocore_refuses_is_left_to_the_input_check(assembly: Path) -> None:
    runner = LocalRunner(assembly)
    with mock_aws():
        result = runner.run({"prompt": "a red bicycle", "output_s3_bucket_name": "a/b"}, "bad-bucket-name")
    assert result.error == "InvalidInput" and result.states_entered() == REJECTED_STATES

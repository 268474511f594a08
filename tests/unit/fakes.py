"""Bedrock clients with scripted answers (botocore Stubber) and payload builders for handler tests."""

from typing import Any

import boto3
from botocore.stub import Stubber

from common.payloads import CandidateAttempt, Rewrite, Run
from common.request import RunRequest, parse_request
from common.settings import Settings

# Bedrock's answers are spelled once, where the stand-in builds its own.
from imgloop.answers import invoke_model_output as invoke_answer
from imgloop.answers import text_reply as prose_answer
from imgloop.answers import tool_use_reply as tool_answer

__all__ = ["attempt", "bedrock", "invoke_answer", "prose_answer", "request", "rewrite", "tool_answer"]


def bedrock() -> tuple[Any, Stubber]:
    client = boto3.client("bedrock-runtime", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    return client, Stubber(client)


def request(settings: Settings, **fields: Any) -> RunRequest:
    return parse_request({"prompt": "A red bicycle, a blue wall", **fields}, settings)


def attempt(
    settings: Settings, revision: int = 0, number: int = 1, prompt: str | None = None, **fields: Any
) -> CandidateAttempt:
    run_request = request(settings, **fields)
    return CandidateAttempt(
        request=run_request,
        run=Run(
            execution_id="arn:aws:states:us-west-2:123456789012:execution:ImageLoop:run-1",
            execution_name="run-1",
            bucket=settings.output_bucket,
            folder="generated-images/run-1",
            manifest_key="generated-images/run-1/manifest.json",
        ),
        revision=revision,
        attempt=number,
        prompt=prompt or run_request.prompt,
        negative_prompt="",
    )


def rewrite(settings: Settings, mode: str = "revise", number: int = 2, prompt: str = "a bike") -> Rewrite:
    step = attempt(settings, number=number, prompt=prompt)
    return Rewrite.model_validate({**step.model_dump(exclude={"candidate"}), "mode": mode})

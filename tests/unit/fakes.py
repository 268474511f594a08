"""Bedrock clients with scripted answers (botocore Stubber) and payload builders for handler tests."""

from typing import Any

import boto3
from botocore.stub import Stubber
from pydantic import TypeAdapter

from common.generators import GeneratorConfig
from common.generators.base import ImageGenerator
from common.request import RunRequest, parse_request
from common.results import Run
from common.settings import Settings
from common.tasks import Edit, GenerateTask, RewriteTask, ValidateTask

# Bedrock's answers are spelled once, where the stand-in builds its own.
from imgloop.local.standin.answers import invoke_model_output as invoke_answer
from imgloop.local.standin.answers import text_reply as prose_answer
from imgloop.local.standin.answers import tool_use_reply as tool_answer

__all__ = ["attempt", "bedrock", "invoke_answer", "prose_answer", "request", "rewrite", "tool_answer"]


def bedrock() -> tuple[Any, Stubber]:
    client = boto3.client("bedrock-runtime", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    return client, Stubber(client)


def request(settings: Settings, **fields: Any) -> RunRequest:
    return parse_request({"prompt": "A red bicycle, a blue wall", **fields}, settings)


def run(settings: Settings) -> Run:
    return Run.of(
        "arn:aws:states:us-west-2:123456789012:execution:ImageLoop:run-1",
        "run-1",
        settings.output_bucket,
        "generated-images",
    )


def _edit(checked: RunRequest) -> Edit:
    return Edit(mode=checked.mode, source_image=checked.source_image, mask_image=checked.mask_image)


def attempt(
    settings: Settings, revision: int = 0, number: int = 1, prompt: str | None = None, **fields: Any
) -> GenerateTask:
    """Generate's payload for one image, as the state machine would cut it from the checked request."""
    checked = request(settings, **fields)
    return GenerateTask(
        run=run(settings),
        revision=revision,
        attempt=number,
        candidates=checked.candidates,
        prompt=prompt or checked.prompt,
        negative_prompt="",
        prompt_template=checked.prompt_template,
        generator=checked.generator,
        edit=_edit(checked),
        strength=checked.strength,
        search_prompt=checked.search_prompt,
        outpaint=checked.outpaint,
    )


def judging(settings: Settings, key: str, prompt: str | None = None, **fields: Any) -> ValidateTask:
    checked = request(settings, **fields)
    return ValidateTask(
        run=run(settings),
        revision=0,
        attempt=1,
        candidates=checked.candidates,
        key=key,
        requirement=checked.prompt,
        prompt=prompt or checked.prompt,
        validate_against=checked.validate_against,
        validator=checked.validator,
        edit=_edit(checked),
    )


def rewrite(settings: Settings, mode: str = "revise", prompt: str = "a bike", **fields: Any) -> RewriteTask:
    checked = request(settings, **fields)
    return RewriteTask(
        run=run(settings),
        mode=mode,
        revision=0,
        requirement=checked.prompt,
        prompt=prompt,
        negative_prompt="",
        generator=checked.generator,
        reviser=checked.reviser,
    )


_GENERATOR: TypeAdapter[ImageGenerator] = TypeAdapter(GeneratorConfig)


def generator(model_id: str, **values: Any) -> ImageGenerator:
    """A generator as the request's union parses it: the family its model id names."""
    return _GENERATOR.validate_python({"model_id": model_id, **values})

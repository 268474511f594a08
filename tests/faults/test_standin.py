"""The Bedrock stand-in answers as Bedrock does: retired models refused in Bedrock's words, pictures that
differ by seed and prompt, prompts revised in the target family's style from the judge's fixes."""

import io
import json
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from PIL import Image, ImageChops

from common.bedrock_errors import model_call
from common.errors import ModelUnavailable
from common.generators.base import GeneratedImage
from common.names import CallTags
from imgloop.local.standin.answers import END_OF_LIFE
from imgloop.local.standin.pictures import draw
from imgloop.local.standin.service import Scenario
from tests.unit.fakes import generator

SD35 = "stability.sd3-5-large-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"  # EOL in the catalogue
RETIRED_JUDGE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"  # EOL, named through its inference profile
PROMPT_TOOL = {"tools": [{"toolSpec": {"name": "propose_prompt", "inputSchema": {"json": {"type": "object"}}}}]}


def bedrock() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-west-2")


def image(model_id: str, body: dict[str, Any]) -> bytes:
    return bytes(bedrock().invoke_model(modelId=model_id, body=json.dumps(body))["body"].read())


@pytest.mark.parametrize(
    ("operation", "model_id"),
    [("invoke_model", SDXL), ("converse", RETIRED_JUDGE), ("invoke_model", "amazon.nova-canvas-v1:0")],
)
def test_an_eol_model_is_answered_as_bedrock_answers_it(standin: Any, operation: str, model_id: str) -> None:
    def call() -> Any:
        if operation == "converse":
            return bedrock().converse(modelId=model_id, messages=[], toolConfig=PROMPT_TOOL)
        return bedrock().invoke_model(modelId=model_id, body="{}")

    with pytest.raises(ClientError) as raised:
        call()

    error = raised.value.response
    assert error["Error"] == {"Code": "ResourceNotFoundException", "Message": END_OF_LIFE.message}
    assert error["Error"]["Message"].startswith("This model version has reached the end of its life.")
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert isinstance(raised.value, bedrock().exceptions.ResourceNotFoundException)
    # The handlers' classification: not retried, the run names the successor.
    with pytest.raises(ModelUnavailable, match=r"ResourceNotFoundException: .* use \S+ instead"), model_call(model_id):
        call()


def test_active_models_always_answer_and_retired_ones_only_when_the_lifecycle_is_not_honoured(standin: Any) -> None:
    assert image(SD35, {"prompt": "a cabin", "seed": 3})
    standin.scenario = Scenario(honour_lifecycle=False)
    assert image(SDXL, {"text_prompts": [{"text": "a cabin", "weight": 1.0}], "seed": 3})


def test_pictures_are_the_same_for_the_same_request_and_differ_by_seed_and_prompt() -> None:
    def picture(prompt: str, seed: int) -> Image.Image:
        return Image.open(io.BytesIO(draw(prompt, 512, 320, "PNG", seed))).convert("RGB")

    def differing_share(a: Image.Image, b: Image.Image) -> float:
        changed = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v > 24 else 0)
        return sum(changed.histogram()[255:]) / (a.width * a.height)

    assert draw("a cabin in snow", 512, 320, "PNG", 7) == draw("a cabin in snow", 512, 320, "PNG", 7)
    base = picture("a cabin in snow", 7)
    assert base.size == (512, 320)
    assert differing_share(base, picture("a cabin in snow", 8)) > 0.3
    assert differing_share(base, picture("a lighthouse at dusk", 7)) > 0.3


@pytest.mark.parametrize(
    ("model_id", "body", "size", "image_format"),
    [
        (SD35, {"prompt": "a cabin", "aspect_ratio": "16:9", "output_format": "jpeg", "seed": 5}, (1344, 768), "JPEG"),
        (SDXL, {"text_prompts": [{"text": "a cabin"}], "width": 1152, "height": 896}, (1152, 896), "PNG"),
        (
            "amazon.nova-canvas-v1:0",
            {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a cabin"}, "imageGenerationConfig": {}},
            (1024, 1024),
            "PNG",
        ),
    ],
)
def test_each_family_gets_its_own_response_shape_with_the_size_asked_for(
    standin: Any, model_id: str, body: dict[str, Any], size: tuple[int, int], image_format: str
) -> None:
    standin.scenario = Scenario(honour_lifecycle=False)  # the shapes of retired families too
    family = generator(model_id)
    result = family.read_response(json.loads(image(model_id, body)), 5)

    assert isinstance(result, GeneratedImage)
    picture = Image.open(io.BytesIO(result.data))
    assert (picture.size, picture.format) == (size, image_format)


def revise(model_id: str, requirement: str, failures: str) -> dict[str, Any]:
    text = (
        f"<requirement>\n{requirement}\n</requirement>\n<last_prompt>\n{requirement}\n</last_prompt>\n"
        f"<last_negative_prompt>\n\n</last_negative_prompt>\n<failures>\n{failures}\n</failures>"
    )
    reply = bedrock().converse(
        modelId="us.anthropic.claude-sonnet-4-6",
        system=[{"text": generator(model_id).prompt_guidelines}],
        messages=[{"role": "user", "content": [{"text": text}]}],
        toolConfig=PROMPT_TOOL,
        requestMetadata={CallTags.ROLE: "revise", CallTags.TARGET: model_id},
    )
    return dict(reply["output"]["message"]["content"][0]["toolUse"]["input"])


REQUIREMENT = "A lighthouse on a cliff without people, stormy sea"
FAILURES = (
    "attempt 1: score 4/10: 'A lighthouse on a cliff without people' is not clearly shown "
    "(suggested fix: show a lighthouse on a cliff without people larger, centred and in sharp focus)\n"
    "attempt 2: the model made no image: model refused: Filter reason: prompt"
)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        (
            SD35,
            "A lighthouse on a cliff, stormy sea. Show a lighthouse on a cliff larger, centred and in sharp focus.",
        ),
        (SDXL, "(A lighthouse on a cliff:1.3), stormy sea, highly detailed, sharp focus"),
        (
            "amazon.nova-canvas-v1:0",
            "a photo of a lighthouse on a cliff, stormy sea, in sharp focus, with a lighthouse on a cliff large and "
            "centred",
        ),
    ],
)
def test_a_revision_restates_the_requirement_in_the_familys_style_with_the_judges_fix(
    standin: Any, model_id: str, expected: str
) -> None:
    proposal = revise(model_id, REQUIREMENT, FAILURES)

    assert proposal["prompt"] == expected
    assert not re.search(r"\b(no|not|without)\b", proposal["prompt"])  # exclusions go in the negative prompt
    assert proposal["negative_prompt"] == "people, blurry, distorted, watermark"


def test_a_translation_keeps_the_preamble_the_reviser_strips(standin: Any) -> None:
    reply = bedrock().converse(
        modelId="us.anthropic.claude-sonnet-4-6",
        messages=[{"role": "user", "content": [{"text": "<requirement>\n夜の灯台\n</requirement>"}]}],
        toolConfig=PROMPT_TOOL,
        requestMetadata={CallTags.ROLE: "translate"},
    )
    proposal = reply["output"]["message"]["content"][0]["toolUse"]["input"]
    assert proposal["prompt"] == "Here is the translation: English rendering of '夜の灯台'"

"""The stand-in's prompt-keyed triggers, which aim at chosen items of a batch: refusals answered as each
family's content filter answers, a judge that never passes some requirements, throttling per subject."""

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from common.bedrock_errors import error_message, is_refusal
from common.generators.base import GeneratedImage, RefusedGeneration
from imgloop.local.standin.service import Scenario
from imgloop.local.standin.triggers import Triggers
from tests.unit.fakes import generator

SD35 = "stability.sd3-5-large-v1:0"
NOVA = "amazon.nova-canvas-v1:0"
JUDGE = "us.anthropic.claude-sonnet-4-6"
VERDICT_TOOL = {"tools": [{"toolSpec": {"name": "record_verdict", "inputSchema": {"json": {"type": "object"}}}}]}


def bedrock() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-west-2")


def generate(model_id: str, prompt: str) -> Any:
    body = (
        {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": prompt}, "imageGenerationConfig": {"seed": 3}}
        if model_id == NOVA
        else {"prompt": prompt, "seed": 3}
    )
    try:
        answer = json.loads(bedrock().invoke_model(modelId=model_id, body=json.dumps(body))["body"].read())
    except ClientError as error:
        # Nova Canvas refuses a prompt with HTTP 400, which Generate takes for a refusal, not a failure.
        if not is_refusal(error):
            raise
        return RefusedGeneration(reason=f"model rejected the prompt: {error_message(error)}", seed=3)
    return generator(model_id).read_response(answer, 3)


def judge(requirement: str) -> dict[str, Any]:
    text = f"<requirement>\n{requirement}\n</requirement>"
    reply = bedrock().converse(
        modelId=JUDGE, messages=[{"role": "user", "content": [{"text": text}]}], toolConfig=VERDICT_TOOL
    )
    return dict(reply["output"]["message"]["content"][0]["toolUse"]["input"])


@pytest.mark.parametrize(
    ("model_id", "reason"),
    [
        (SD35, "model refused: Filter reason: prompt"),
        (
            NOVA,
            "model rejected the prompt: This request has been blocked by our content filters. Please adjust your text",
        ),
    ],
)
def test_a_prompt_with_a_refuse_word_is_refused_as_the_familys_content_filter_refuses(
    standin: Any, model_id: str, reason: str
) -> None:
    # Nova Canvas is past its end of life in the catalogue: the lifecycle is off to see its shape.
    standin.scenario = Scenario(honour_lifecycle=False, triggers=Triggers(refuse_words=("forbidden",)))

    refused = generate(model_id, "A FORBIDDEN garden, a fountain")

    assert isinstance(refused, RefusedGeneration) and refused.reason.startswith(reason)
    assert isinstance(generate(model_id, "A walled garden, a fountain"), GeneratedImage)


def test_the_judge_never_passes_a_requirement_with_a_reject_word(standin: Any) -> None:
    standin.scenario = Scenario(triggers=Triggers(reject_words=("unjudgeable",)))

    rejected = [judge("An unjudgeable owl, a branch") for _ in range(3)]

    assert [(v["pass"], v["score"]) for v in rejected] == [(False, 4)] * 3
    assert judge("An owl, a branch")["pass"] is True


def test_each_subject_is_throttled_its_first_k_times_apart_from_the_others(standin: Any) -> None:
    standin.scenario = Scenario(triggers=Triggers(throttle_each=2))
    outcomes: list[str] = []

    def attempt(call: Any) -> None:
        try:
            call()
            outcomes.append("answered")
        except ClientError as error:
            outcomes.append(error.response["Error"]["Code"])

    for _ in range(3):
        attempt(lambda: generate(SD35, "A fox, a forest"))
    for _ in range(3):
        attempt(lambda: judge("A fox, a forest"))  # the judge's calls about it count apart
    attempt(lambda: generate(SD35, "An owl, a branch"))

    assert outcomes == [*["ThrottlingException"] * 2, "answered"] * 2 + ["ThrottlingException"]

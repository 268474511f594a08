"""Generate: the exact SD3.5 request, the image in staging, refusals as outcomes, errors by name."""

import random
from typing import Any

import pytest
from botocore.stub import ANY

from common.errors import ModelRequestRejected, ModelThrottled, ModelUnavailable
from generate.logic import generate
from imgloop.local.standin.answers import (
    END_OF_LIFE,
    PROMPT_NOT_ENGLISH,
    THROTTLED,
    HttpError,
    filtered_response,
    image_response,
)
from imgloop.local.standin.pictures import draw
from tests.unit.fakes import attempt, bedrock, invoke_answer

PNG = draw("test", 64, 64, "PNG", 1)


@pytest.fixture
def bucket(s3: Any, settings: Any) -> str:
    s3.create_bucket(Bucket=settings.output_bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    return str(settings.output_bucket)


def test_sends_the_sd35_body_and_puts_the_image_in_staging(s3: Any, settings: Any, bucket: str) -> None:
    client, stub = bedrock()
    task = attempt(settings, generator={"aspect_ratio": "16:9", "seed": 42})
    task = task.model_copy(update={"negative_prompt": "people"})
    stub.add_response(
        "invoke_model",
        invoke_answer(image_response("stability", 42, [PNG])),
        {
            "modelId": "stability.sd3-5-large-v1:0",
            "body": '{"prompt": "A red bicycle, a blue wall", "mode": "text-to-image", "aspect_ratio": "16:9", '
            '"output_format": "png", "seed": 42, "negative_prompt": "people"}',
            "contentType": "application/json",
            "accept": "application/json",
        },
    )
    with stub:
        result = generate(task, client, s3, random.Random(1))

    assert result.outcome == "image" and result.seed == 42
    assert result.staging_key == "_staging/generated-images/run-1/r00-a01.png"
    stored = s3.get_object(Bucket=bucket, Key=result.staging_key)
    assert stored["Body"].read() == PNG and stored["ContentType"] == "image/png"


def test_seed_zero_picks_a_seed_and_records_the_one_used(s3: Any, settings: Any, bucket: str) -> None:
    client, stub = bedrock()
    stub.add_response(
        "invoke_model",
        invoke_answer(image_response("stability", 1234, [PNG])),
        {"modelId": ANY, "body": ANY, "contentType": ANY, "accept": ANY},
    )
    with stub:
        result = generate(attempt(settings), client, s3, random.Random(7))
    assert result.seed == 1234


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (filtered_response("stability", 5), "model refused: Filter reason: prompt"),
        (image_response("stability", 5, []), "model answered with no image"),
        ({**image_response("stability", 5, [PNG]), "images": ["%%%"]}, "not base64"),
    ],
)
def test_an_http_200_refusal_is_an_outcome_and_writes_nothing(
    s3: Any, settings: Any, bucket: str, answer: dict[str, Any], reason: str
) -> None:
    client, stub = bedrock()
    stub.add_response(
        "invoke_model", invoke_answer(answer), {"modelId": ANY, "body": ANY, "contentType": ANY, "accept": ANY}
    )
    with stub:
        result = generate(attempt(settings), client, s3, random.Random(1))
    assert result.outcome == "refused" and result.staging_key is None
    assert reason in (result.refusal or "")
    assert s3.list_objects_v2(Bucket=bucket).get("KeyCount") == 0


def test_a_rejected_prompt_is_a_refusal(s3: Any, settings: Any, bucket: str) -> None:
    client, stub = bedrock()
    refusal = PROMPT_NOT_ENGLISH
    stub.add_client_error("invoke_model", refusal.code, refusal.message, refusal.status)
    with stub:
        result = generate(attempt(settings), client, s3, random.Random(1))
    assert result.outcome == "refused"
    assert result.refusal == f"model rejected the prompt: {refusal.message}"


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (THROTTLED, ModelThrottled),
        (END_OF_LIFE, ModelUnavailable),
        (HttpError(403, "AccessDeniedException", "nope"), ModelUnavailable),
        (HttpError(400, "SomethingNew", "nope"), ModelRequestRejected),
    ],
)
def test_bedrock_errors_surface_as_named_errors(
    s3: Any, settings: Any, bucket: str, answer: HttpError, error: type[Exception]
) -> None:
    client, stub = bedrock()
    stub.add_client_error("invoke_model", answer.code, answer.message, answer.status)
    with stub, pytest.raises(error) as raised:
        generate(attempt(settings), client, s3, random.Random(1))
    assert "stability.sd3-5-large-v1:0" in str(raised.value)

"""The fault injector itself, on plain clients: S3 faults go through the SDK's retries and never reach moto;
Bedrock and Lambda faults are answered ahead of their stand-ins; counts, skips and predicates hold."""

import json
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from imgloop.local.assembly import FunctionSpec, LocalNames
from imgloop.local.functions import LocalLambdas
from imgloop.local.standin.answers import THROTTLED, HttpError, filtered_response, message_reply
from imgloop.local.standin.service import BedrockStandIn
from tests.faults.injector import (
    LAMBDA_THROTTLED,
    Body,
    Crash,
    Fault,
    FaultPlan,
    Filtered,
    Hang,
    Reply,
    function_is,
    key_under,
    model_is,
)

BUCKET = "fault-bucket"
SD35 = "stability.sd3-5-large-v1:0"
SDXL = "stability.stable-diffusion-xl-v1"
ECHO_ARN = LocalNames().function_arn("EchoFunction")
FUNCTIONS = {ECHO_ARN: FunctionSpec("EchoFunction", "tests.faults.test_injector.echo", {})}


def echo(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"echo": event}


def session(plan: FaultPlan) -> boto3.Session:
    made = boto3.Session(region_name="us-west-2")
    BedrockStandIn().register(made.events)
    LocalLambdas(FUNCTIONS).register(made.events)
    plan.register(made.events)
    return made


def s3_client(made: boto3.Session) -> Any:
    client = made.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 5}))
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    return client


def test_a_short_s3_burst_is_retried_by_the_sdk_without_sleeping(aws: None) -> None:
    fault = Fault("s3.PutObject", HttpError(503, "SlowDown"), count=3, when=key_under("_staging/"))
    plan = FaultPlan([fault])
    s3 = s3_client(session(plan))
    with plan.recorded_sdk_waits():
        answer = s3.put_object(Bucket=BUCKET, Key="_staging/a.png", Body=b"png")
        s3.put_object(Bucket=BUCKET, Key="run/b.png", Body=b"png")  # not matched

    assert answer["ResponseMetadata"]["RetryAttempts"] == 3
    assert (fault.matched, fault.fired) == (4, 3)
    assert len(plan.sdk_waits) == 3 and all(0 <= w <= 20 for w in plan.sdk_waits)
    assert s3.get_object(Bucket=BUCKET, Key="_staging/a.png")["Body"].read() == b"png"


def test_a_long_s3_outage_reaches_the_caller_and_nothing_is_written(aws: None) -> None:
    plan = FaultPlan([Fault("s3.PutObject", HttpError(500, "InternalError"), count=None)])
    s3 = s3_client(session(plan))
    with plan.recorded_sdk_waits(), pytest.raises(ClientError) as raised:
        s3.put_object(Bucket=BUCKET, Key="a.png", Body=b"png")

    assert raised.value.response["Error"]["Code"] == "InternalError"
    assert plan.fired == 6  # the first try and 5 retries
    assert "Contents" not in s3.list_objects_v2(Bucket=BUCKET)


def test_skip_lets_the_first_calls_through_and_hang_and_crash_raise(aws: None) -> None:
    plan = FaultPlan(
        [
            Fault("s3.CopyObject", Crash("boom"), count=1, skip=1),
            Fault("s3.HeadObject", Hang(), count=None),
        ]
    )
    s3 = s3_client(session(plan))
    s3.put_object(Bucket=BUCKET, Key="a.png", Body=b"png")
    s3.copy_object(Bucket=BUCKET, Key="b.png", CopySource={"Bucket": BUCKET, "Key": "a.png"})
    with pytest.raises(RuntimeError, match="boom"):
        s3.copy_object(Bucket=BUCKET, Key="c.png", CopySource={"Bucket": BUCKET, "Key": "a.png"})
    with plan.recorded_sdk_waits(), pytest.raises(ReadTimeoutError):
        s3.head_object(Bucket=BUCKET, Key="a.png")
    assert plan.faults[1].fired == 6


def test_bedrock_faults_come_before_the_stand_in_and_the_ledger_counts_images(aws: None) -> None:
    plan = FaultPlan(
        [
            Fault("bedrock-runtime.InvokeModel", Body(b"not json"), count=1, when=model_is(SD35)),
            Fault("bedrock-runtime.InvokeModel", THROTTLED, count=1),
            Fault("bedrock-runtime.Converse", Reply(message_reply([], "end_turn")), count=1),
        ]
    )
    bedrock = session(plan).client("bedrock-runtime", config=Config(retries={"total_max_attempts": 1}))
    body = '{"prompt": "a red bicycle", "seed": 7}'

    assert bedrock.invoke_model(modelId=SD35, body=body)["body"].read() == b"not json"
    with pytest.raises(ClientError, match="ThrottlingException"):
        bedrock.invoke_model(modelId=SD35, body=body)
    assert b'"images"' in bedrock.invoke_model(modelId=SD35, body=body)["body"].read()  # the stand-in again
    reply = bedrock.converse(modelId="us.anthropic.claude-sonnet-4-6", messages=[{"role": "user", "content": []}])
    assert reply["output"]["message"]["content"] == []
    assert plan.images_answered == 1


def test_body_answers_are_for_bedrock_only() -> None:
    with pytest.raises(ValueError, match="Bedrock only"):
        FaultPlan([Fault("s3.GetObject", Body(b""))]).register(boto3.Session(region_name="us-west-2").events)


def test_a_content_filter_answers_in_the_shape_of_the_requests_family(aws: None) -> None:
    plan = FaultPlan([Fault("bedrock-runtime.InvokeModel", Filtered(), count=2)])
    bedrock = session(plan).client("bedrock-runtime", config=Config(retries={"total_max_attempts": 1}))
    sdxl = {"text_prompts": [{"text": "a cabin", "weight": 1.0}], "seed": 7}

    answers = [
        json.loads(bedrock.invoke_model(modelId=model, body=json.dumps(body))["body"].read())
        for model, body in [(SD35, {"prompt": "a cabin", "seed": 7}), (SDXL, sdxl)]
    ]
    assert answers == [filtered_response("stability", 7), filtered_response("sdxl", 7)]
    assert plan.images_answered == 0


def test_lambda_service_errors_are_answered_ahead_of_the_local_function(aws: None) -> None:
    plan = FaultPlan(
        [
            Fault("lambda.Invoke", LAMBDA_THROTTLED, count=1, when=function_is("tests", action="record")),
            Fault("lambda.Invoke", HttpError(500, "ServiceException"), count=1, skip=1, when=function_is("tests")),
        ],
        functions=FUNCTIONS,
    )
    lam = session(plan).client("lambda", config=Config(retries={"total_max_attempts": 1}))

    def invoke(action: str) -> Any:
        return lam.invoke(FunctionName=ECHO_ARN, Payload=json.dumps({"action": action}))

    with pytest.raises(ClientError) as throttled:
        invoke("record")
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert json.loads(invoke("open")["Payload"].read()) == {"echo": {"action": "open"}}  # skipped
    with pytest.raises(ClientError, match="ServiceException"):
        invoke("open")
    assert json.loads(invoke("record")["Payload"].read()) == {"echo": {"action": "record"}}
    assert [f.fired for f in plan.faults] == [1, 1]

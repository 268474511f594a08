"""The fault injector itself, on plain clients: S3 faults go through the SDK's retries and never reach moto;
Bedrock faults are answered ahead of the stand-in; counts, skips and predicates hold."""

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError

from imgloop.faults import Body, Crash, Fault, FaultPlan, Hang, HttpError, Reply, key_under, model_is
from imgloop.standin import BedrockStandIn

BUCKET = "fault-bucket"
SD35 = "stability.sd3-5-large-v1:0"


def session(plan: FaultPlan) -> boto3.Session:
    made = boto3.Session(region_name="us-west-2")
    BedrockStandIn().register(made.events)
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
            Fault("bedrock-runtime.InvokeModel", HttpError(429, "ThrottlingException"), count=1),
            Fault("bedrock-runtime.Converse", Reply({"output": {"message": {"content": []}}}), count=1),
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

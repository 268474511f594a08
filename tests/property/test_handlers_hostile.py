"""Every Lambda handler under hostile events, called directly as Lambda would call it, on moto with an
empty bucket and the Bedrock stand-in: each event the payload's schema must reject is rejected as
InvalidInput naming a field, in a short message, before any S3 write or Bedrock call."""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

import generate.handler
import revise.handler
import save.handler
import validate.handler
from common import clients
from common.errors import InvalidInput
from common.payloads import CandidateAttempt, Rewrite, SaveAction, parse_payload
from imgloop.local_lambda import LambdaContext
from imgloop.standin import BedrockStandIn
from tests.property.checks import assert_clean_rejection, request_field_names
from tests.property.limits import SAVE_TAGS
from tests.property.strategies import (
    BAD_NAMES,
    CONSISTENCY_BREAKS,
    FOREIGN_KEYS,
    HANDLER_ENV,
    PAYLOAD_KINDS,
    SETTINGS,
    Picks,
    breaking,
    build_payload,
    execution_names,
    parsable_requests,
    picks,
    schema_breaks,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
HANDLERS: dict[str, Handler] = {
    "generate": generate.handler.handler,
    "validate": validate.handler.handler,
    "revise": revise.handler.handler,
    "save": save.handler.handler,
}
S3_WRITES = frozenset(
    {
        "PutObject",
        "CopyObject",
        "DeleteObject",
        "DeleteObjects",
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPartCopy",
        "CompleteMultipartUpload",
        "PutObjectTagging",
        "PutObjectAcl",
        "CreateBucket",
        "DeleteBucket",
    }
)
# What a handler's rejection may name first: a payload field, a Save action, a request field (Save's
# open action reports the request's own fields), or a key the event itself has.
PAYLOAD_ROOTS = frozenset(
    {
        "request",
        "execution name",
        "run",
        "revision",
        "attempt",
        "candidate",
        "prompt",
        "negative_prompt",
        "key",
        "mode",
        "action",
        "execution",
        "generation",
        "candidates",
        "error",
        "cause",
        *SAVE_TAGS,
    }
)


@dataclass
class World:
    """moto's account with the stack's (empty) buckets, the stand-in, and every S3 call the handlers make."""

    s3: Any
    standin: BedrockStandIn
    s3_calls: list[str] = field(default_factory=list)

    def reset(self) -> None:
        """Empty buckets and no calls again (a handler that wrote something failed its test already)."""
        if any(name in S3_WRITES for name in self.s3_calls):
            for bucket in self.s3.list_buckets()["Buckets"]:
                for item in self.s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
                    self.s3.delete_object(Bucket=bucket["Name"], Key=item["Key"])
        self.standin.calls.clear()
        self.s3_calls.clear()

    def objects(self) -> list[str]:
        return [
            f"s3://{bucket['Name']}/{item['Key']}"
            for bucket in self.s3.list_buckets()["Buckets"]
            for item in self.s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        ]

    def invoke(self, kind: str, event: Any) -> dict[str, Any] | Exception:
        """The handler's answer to the event, or what it raised."""
        self.reset()
        try:
            return HANDLERS[kind.split(":")[0]](
                event, LambdaContext("hostile", "arn:aws:lambda:us-west-2:123456789012:function:hostile")
            )
        except Exception as error:
            return error

    def assert_untouched(self) -> None:
        writes = [name for name in self.s3_calls if name in S3_WRITES]
        assert writes == [], f"S3 writes: {writes}"
        assert self.objects() == []
        assert self.standin.calls == [], f"Bedrock calls: {[(c.operation, c.model_id) for c in self.standin.calls]}"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto account for the module (hypothesis runs many examples per test; each starts by reset)."""
    with pytest.MonkeyPatch.context() as env, mock_aws():
        for name, value in HANDLER_ENV.items():
            env.setenv(name, value)
        boto3.setup_default_session(region_name=SETTINGS.region)
        session = boto3.DEFAULT_SESSION
        assert session is not None
        standin = BedrockStandIn()
        standin.register(session.events)
        # The test's own client comes from another session, so only the handlers' calls are recorded.
        world = World(s3=boto3.session.Session(region_name=SETTINGS.region).client("s3"), standin=standin)

        def record(model: Any, **_: Any) -> None:
            world.s3_calls.append(model.name)

        session.events.register("before-call.s3", record)
        clients.bedrock.cache_clear()
        clients.s3.cache_clear()
        for bucket in SETTINGS.allowed_buckets:
            world.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": SETTINGS.region})
        try:
            yield world
        finally:
            clients.bedrock.cache_clear()
            clients.s3.cache_clear()


def handler_field_names(event: Any) -> set[str]:
    names = set(PAYLOAD_ROOTS)
    if isinstance(event, dict):
        names |= {str(key)[:100] for key in event if key}
        names |= request_field_names(event.get("request"))
    return names


def assert_rejected(outcome: dict[str, Any] | Exception, event: Any) -> InvalidInput:
    if not isinstance(outcome, Exception):
        raise AssertionError(f"accepted: {str(outcome)[:300]}")
    if type(outcome) is not InvalidInput:
        raise AssertionError(f"raised {type(outcome).__name__}, not InvalidInput") from outcome
    message = str(outcome)
    # The field may be a path into the payload (run.bucket, record.generation.outcome).
    roots = handler_field_names(event)
    first = message.split(": ", 1)[0]
    names = roots | {first} if any(first.startswith(f"{root}.") for root in roots) else roots
    assert_clean_rejection(outcome, event, names)
    return outcome


@pytest.mark.parametrize("kind", PAYLOAD_KINDS)
@settings(max_examples=70)
@given(data=st.data())
def test_an_event_its_schema_rejects_is_invalid_input_before_any_write_or_model_call(
    world: World, kind: str, data: st.DataObject
) -> None:
    event = data.draw(schema_breaks(kind), label="event")
    outcome = world.invoke(kind, event)
    assert_rejected(outcome, event)
    world.assert_untouched()


@pytest.mark.parametrize("kind", PAYLOAD_KINDS)
@settings(max_examples=5)
@given(raw_request=parsable_requests, name=execution_names, chosen=picks)
def test_the_payloads_the_hostile_events_start_from_pass_the_schema(
    kind: str, raw_request: dict[str, Any], name: str, chosen: Picks
) -> None:
    """The bases of the breaks above are payloads the handlers take, so each break is what rejects."""
    event = build_payload(kind, raw_request, name, chosen)
    models: dict[str, Any] = {"generate": CandidateAttempt, "revise": Rewrite}
    if kind == "validate":
        models["validate"] = validate.handler.ValidateTask
    parse_payload(models.get(kind, SaveAction), event)


# ---------------------------------------------------------------------------------------------
# Bugs found: events the payload's schema accepts but no run sends (see strategies.breaking).


@pytest.mark.parametrize("kind", [k for k in PAYLOAD_KINDS if k != "save:open"])
@settings(max_examples=10, phases=[Phase.explicit, Phase.generate])
@given(
    raw_request=parsable_requests,
    name=execution_names,
    chosen=picks,
    choice=st.sampled_from(CONSISTENCY_BREAKS),
    foreign=st.sampled_from(FOREIGN_KEYS),
    bad_name=st.sampled_from(BAD_NAMES),
)
@example(
    raw_request={"prompt": "a red bicycle"},
    name="run-1",
    chosen=Picks(),
    choice="name",
    foreign=FOREIGN_KEYS[0],
    bad_name="../x",
)
def test_fixed_bug_an_inconsistent_task_is_invalid_input_before_any_write_or_model_call(
    world: World,
    kind: str,
    raw_request: dict[str, Any],
    name: str,
    chosen: Picks,
    choice: str,
    foreign: str,
    bad_name: str,
) -> None:
    event = breaking(build_payload(kind, raw_request, name, chosen), choice, foreign, bad_name)
    outcome = world.invoke(kind, event)
    assert_rejected(outcome, event)
    world.assert_untouched()


@settings(max_examples=10, phases=[Phase.explicit, Phase.generate])
@given(st.integers(64, 5000).map(lambda n: {"action": "x" * n}))
@example({"action": "x" * 2000})
def test_fixed_bug_an_unknown_save_action_is_not_echoed_at_length(world: World, event: dict[str, Any]) -> None:
    assert_rejected(world.invoke("save", event), event)
    world.assert_untouched()

"""Every task of the synthesized state machine under hostile payloads, its function called directly as
Lambda would call it, on moto with empty buckets and the Bedrock stand-in. A payload starts as the
state machine would send it (strategies.TaskStates renders the definition's own Payload templates) and
is then broken: (a) so that its model must reject it, or (b) so that it points outside its run. Either
way the function raises InvalidInput naming the broken field, in a short message without a stack
trace, before any S3 write or Bedrock call."""

import importlib
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import hypothesis
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from common import clients
from common.errors import InvalidInput
from common.keys import STAGING_PREFIX
from common.tasks import SaveTask, parse_payload
from imgloop.local.assembly import LocalNames, load_workflow
from imgloop.local.functions import LambdaContext
from imgloop.local.standin.service import BedrockStandIn
from tests.property.checks import assert_clean_rejection, request_field_names
from tests.property.strategies import (
    CONSISTENCY,
    HANDLER_ENV,
    PAYLOAD_MODELS,
    SCHEMA_BREAKS,
    SETTINGS,
    TASK_STATES,
    Picks,
    TaskStates,
    consistency_breaks,
    consistency_rules,
    dotted_paths,
    payloads,
    schema_breaks,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")

# Save's actions: pydantic names a field of a Save payload after its action ("record.generation.seed").
SAVE_TAGS = tuple(
    typing.get_args(action.model_fields["action"].annotation)[0]
    for action in typing.get_args(SaveTask.model_fields["root"].annotation)
)
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


@pytest.fixture(scope="module")
def states(assembly: Path) -> TaskStates:
    return TaskStates.of(load_workflow(assembly, LocalNames()))


@dataclass
class World:
    """moto's account with the stack's (empty) buckets, the stand-in, and every S3 call the handlers make."""

    s3: Any
    standin: BedrockStandIn
    s3_calls: list[str] = field(default_factory=list)

    def objects(self) -> list[str]:
        return [
            f"s3://{bucket['Name']}/{item['Key']}"
            for bucket in self.s3.list_buckets()["Buckets"]
            for item in self.s3.list_objects_v2(Bucket=bucket["Name"]).get("Contents", [])
        ]

    def invoke(self, states: TaskStates, state: str, event: Any) -> dict[str, Any] | Exception:
        """The answer of the state's function to the event, or what it raised (after emptying the buckets:
        a handler that wrote something failed its test already)."""
        for key in self.objects():
            bucket, _, name = key.removeprefix("s3://").partition("/")
            self.s3.delete_object(Bucket=bucket, Key=name)
        self.standin.calls.clear()
        self.s3_calls.clear()
        module, _, function = states.handlers[state].rpartition(".")
        handler: Callable[[Any, Any], dict[str, Any]] = getattr(importlib.import_module(module), function)
        try:
            return handler(event, LambdaContext("hostile", "arn:aws:lambda:us-west-2:123456789012:function:hostile"))
        except Exception as error:
            return error

    def assert_untouched(self) -> None:
        writes = [name for name in self.s3_calls if name in S3_WRITES]
        assert writes == [], f"S3 writes: {writes}"
        assert self.objects() == []
        assert self.standin.calls == [], f"Bedrock calls: {[(c.operation, c.model_id) for c in self.standin.calls]}"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    """One moto account for the module (hypothesis runs many examples per test; each starts empty)."""
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
        session.events.register("before-call.s3", lambda model, **_: world.s3_calls.append(model.name))
        clients.bedrock.cache_clear()
        clients.s3.cache_clear()
        for bucket in SETTINGS.allowed_buckets:
            world.s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": SETTINGS.region})
        try:
            yield world
        finally:
            clients.bedrock.cache_clear()
            clients.s3.cache_clear()


def rejection(outcome: dict[str, Any] | Exception) -> InvalidInput:
    if not isinstance(outcome, Exception):
        raise AssertionError(f"accepted: {str(outcome)[:300]}")
    if type(outcome) is not InvalidInput:
        raise AssertionError(f"raised {type(outcome).__name__}, not InvalidInput") from outcome
    assert isinstance(outcome, InvalidInput)
    return outcome


def field_names(states: TaskStates, state: str, base: Any, event: Any) -> set[str]:
    """What a rejection may name: a field of the payload (sent or broken), a field of the request that
    "Check input" checks, the execution name, or the payload as a whole ("request")."""
    names = {"request", "execution name", *(path[:100] for path in (*dotted_paths(base), *dotted_paths(event)))}
    for payload in (base, event):
        if isinstance(payload, dict) and state == states.start:
            names |= request_field_names(payload.get("request"))
    if states.function(state) == "save":
        names |= {*SAVE_TAGS, *(f"{tag}.{name}"[:100] for tag in SAVE_TAGS for name in names)}
    return names


def test_every_task_state_is_attacked(states: TaskStates) -> None:
    assert set(states.payloads) == set(TASK_STATES)
    assert {states.function(state) for state in TASK_STATES} == set(PAYLOAD_MODELS)
    assert {state: consistency_rules(states, state) for state in TASK_STATES} == CONSISTENCY


@pytest.mark.parametrize("state", TASK_STATES)
@settings(max_examples=5)
@given(data=st.data())
def test_the_payloads_the_attacks_start_from_are_what_the_functions_take(
    states: TaskStates, state: str, data: st.DataObject
) -> None:
    """So that each break below is what makes a function refuse its payload."""
    event = data.draw(payloads(states, state))
    model = PAYLOAD_MODELS[states.function(state)]
    assert parse_payload(model, event, SETTINGS).model_dump(mode="json") == event  # every field, nothing more


@pytest.mark.parametrize("how", SCHEMA_BREAKS)
@pytest.mark.parametrize("state", TASK_STATES)
@settings(max_examples=30)
@given(data=st.data())
def test_a_payload_its_model_rejects_is_invalid_input_before_any_write_or_model_call(
    world: World, states: TaskStates, state: str, how: str, data: st.DataObject
) -> None:
    base, event = data.draw(schema_breaks(states, state, how), label="base, event")
    error = rejection(world.invoke(states, state, event))
    hypothesis.event(f"rejected: {str(error).split(': ', 1)[0][:40]}")
    assert_clean_rejection(error, event, field_names(states, state, base, event))
    world.assert_untouched()


def names_first(message: str, name: str) -> bool:
    """Whether the message is about the field name: it names it first (after a Save action's tag), or
    first inside a rule about the payload as a whole ("request: key: must be ...")."""
    head, _, rest = message.partition(": ")
    head = next((head.removeprefix(f"{tag}.") for tag in SAVE_TAGS if head.startswith(f"{tag}.")), head)
    return head == name or (head in ("request", *SAVE_TAGS) and rest.startswith(f"{name}: "))


@pytest.mark.parametrize(("state", "rule"), [(state, rule) for state, rules in CONSISTENCY.items() for rule in rules])
@settings(max_examples=15)
@given(data=st.data())
def test_a_payload_that_points_outside_its_run_is_invalid_input_before_any_write_or_model_call(
    world: World, states: TaskStates, state: str, rule: str, data: st.DataObject
) -> None:
    event, broken = data.draw(consistency_breaks(states, state, rule), label="event, broken field")
    error = rejection(world.invoke(states, state, event))
    assert_clean_rejection(error, event, field_names(states, state, event, event))
    assert names_first(str(error), broken), f"does not name {broken} first: {str(error)[:300]}"
    world.assert_untouched()


@settings(max_examples=10)
@given(st.integers(64, 5000).map(lambda n: {"action": "x" * n}))
@example({"action": "x" * 2000})
def test_fixed_bug_an_unknown_save_action_is_not_echoed_at_length(
    world: World, states: TaskStates, event: dict[str, Any]
) -> None:
    error = rejection(world.invoke(states, "Report failure", event))
    assert_clean_rejection(error, event, field_names(states, "Report failure", {}, event))
    world.assert_untouched()


# ---------------------------------------------------------------------------------------------
# Bugs the properties found, fixed: each test keeps its minimal example.


@pytest.mark.parametrize("state", ["Generate image", "Save image", "Report failure"])
@pytest.mark.parametrize("folder", ["/generated-images/run-1", "generated-images//run-1"])
def test_bug_a_run_folder_with_extra_slashes_is_invalid_input(
    world: World, states: TaskStates, state: str, folder: str
) -> None:
    event = states.payload(state, {"prompt": "a red bicycle"}, "run-1", Picks())
    event["run"] = {**event["run"], "folder": folder}
    assert event["run"]["manifest_key"] == "generated-images/run-1/manifest.json"
    if "generation" in event:  # the staging key of the run as given: its own (as Run.keys has it)
        event["generation"] = {**event["generation"], "staging_key": f"{STAGING_PREFIX}/{folder}/r00-a01.png"}
    rejection(world.invoke(states, state, event))
    world.assert_untouched()

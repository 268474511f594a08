"""The API's request schemas and the workflows' input checks agree: one set of rules."""

import json
from typing import Any

import pytest
from jsonschema import Draft4Validator
from pydantic import ValidationError

from common.batches import MAX_INLINE_ITEMS, BatchRequest
from common.errors import InvalidInput
from common.request import parse_request
from common.schema import batch_schema, request_schema
from tests.conftest import load_event

VALIDATOR = Draft4Validator(request_schema())


def _workflow_accepts(event: Any, settings: Any) -> bool:
    try:
        parse_request(event, settings)
    except InvalidInput:
        return False
    return True


@pytest.mark.parametrize(
    "event",
    [
        {"prompt": "a fox"},
        {"prompt": 'He said "it\'s fine"\nnew line 夜の海', "idempotency_key": "run-42"},
        {"prompt": "a", "generator": {"aspect_ratio": "16:9", "seed": 5}, "validator": {"top_k": 40}},
        {"prompt": "a", "candidates": 2, "max_retry_attempts": 2, "validate_against": "current"},
        {
            "prompt": "a",
            "generator": {"model_id": "stability.stable-diffusion-xl-v1", "steps": 40, "width": 1152, "height": 896},
        },
        {"prompt": "a", "generator": {"model_id": "amazon.nova-canvas-v1:0", "quality": "premium"}},
    ],
)
def test_valid_bodies_pass_both(settings: Any, event: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(event)
    assert _workflow_accepts(event, settings)


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": 7}, "prompt"),
        ({"prompt": "a", "max_retry_attempts": 0}, "max_retry_attempts"),
        ({"prompt": "a", "max_retry_attempts": "3"}, "max_retry_attempts"),
        ({"prompt": "a", "candidates": 9}, "candidates"),
        ({"prompt": "a", "colour": "red"}, "colour"),
        ({"prompt": "a", "validator": {"temperature": 2}}, "temperature"),
        ({"prompt": "a", "validator": {"mood": "strict"}}, "mood"),
        ({"prompt": "a", "sd_aspect_ratio": "4:3"}, "sd_aspect_ratio"),
        ({"prompt": "a", "sdxl_steps": 5}, "sdxl_steps"),
        ({"prompt": "a", "nova_canvas_seed": 858993460}, "nova_canvas_seed"),
        ({"prompt": "a", "idempotency_key": "has spaces"}, "idempotency_key"),
        ({"prompt": "a", "translate": "yes"}, "translate"),
        ({"prompt": "a", "generator": {"aspect_ratio": "7:3"}}, "generator"),
        ({"prompt": "a", "generator": {"steps": 30}}, "generator"),
        ({"prompt": "a", "generator": {"model_id": "amazon.nova-canvas-v1:0", "seed": 858993460}}, "generator"),
        ({"prompt": "a", "generator": {"model_id": "amazon.nova-reel-v1:0"}}, "generator"),
    ],
)
def test_invalid_bodies_fail_both_and_the_schema_names_the_field(
    settings: Any, event: dict[str, Any], field: str
) -> None:
    errors = list(VALIDATOR.iter_errors(event))
    assert errors, "the API would let this body through"
    assert any(field in str([*e.path, e.message]) for e in errors)
    assert not _workflow_accepts(event, settings)


def test_the_seed_events_pass_the_api_schema() -> None:
    for name in ("s1_example.json", "s2_example.json", "s3_example.json", "s4_blog_cover.json", "small_budget.json"):
        assert VALIDATOR.is_valid(load_event(name)), name


# POST /batches: the batch state machine's input, its schema derived from BatchRequest.
BATCH_VALIDATOR = Draft4Validator(batch_schema())
S3_INPUT = {"bucket": "stack-bucket", "key": "uploads/3f0c.jsonl"}


def _batch_accepts(body: Any) -> bool:
    try:
        BatchRequest.model_validate(body)
    except ValidationError:
        return False
    return True


@pytest.mark.parametrize(
    "body",
    [
        {"items": ["a fox"]},
        {"items": ['He said "it\'s fine"', {"id": "cat", "prompt": "夜の海\nnew line"}], "concurrency": 2},
        {"items": ["a"] * MAX_INLINE_ITEMS, "defaults": {"max_retry_attempts": 2, "generator": {"seed": 5}}},
        {"batch": "spring-covers", "input": "s3://stack-bucket/uploads/3f0c.csv"},
        {"input": S3_INPUT, "format": "jsonl", "concurrency": 100, "defaults": {}},
        {"input": S3_INPUT, "items": None, "batch": None, "concurrency": None},
        {"items": ["a"], "input": None},
    ],
)
def test_valid_batch_bodies_pass_both(body: dict[str, Any]) -> None:
    assert BATCH_VALIDATOR.is_valid(body)
    assert _batch_accepts(body)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"items": []}, "items"),
        ({"items": ["a"] * (MAX_INLINE_ITEMS + 1)}, "items"),
        ({"items": [7]}, "items"),
        ({"items": "a fox"}, "items"),
        ({"items": ["a"], "concurrency": 0}, "concurrency"),
        ({"items": ["a"], "concurrency": 101}, "concurrency"),
        ({"items": ["a"], "concurrency": "3"}, "concurrency"),
        ({"items": ["a"], "batch": "spring covers!"}, "batch"),
        ({"items": ["a"], "batch": "b" * 41}, "batch"),
        ({"items": ["a"], "defaults": "max_retry_attempts=2"}, "defaults"),
        ({"input": "https://stack-bucket/uploads/x.csv"}, "input"),
        ({"input": {"bucket": "stack-bucket"}}, "input"),
        ({"input": S3_INPUT, "format": "xml"}, "format"),
        # The execution's name comes from the Idempotency-Key header: the batch's input has no such field.
        ({"items": ["a"], "idempotency_key": "spring-covers"}, "idempotency_key"),
    ],
)
def test_invalid_batch_bodies_fail_both_and_the_schema_names_the_field(body: dict[str, Any], field: str) -> None:
    errors = list(BATCH_VALIDATOR.iter_errors(body))
    assert errors, "the API would let this body through"
    assert any(field in str([*e.path, e.message]) for e in errors)
    assert not _batch_accepts(body)


# Each of the three as left out, null, or given.
_FORMS: dict[str, tuple[Any, ...]] = {"input": (S3_INPUT,), "items": (["a fox"],), "format": ("csv",)}


def _bodies() -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = [{}]
    for field, (value,) in _FORMS.items():
        bodies = [*bodies, *({**b, field: None} for b in bodies), *({**b, field: value} for b in bodies)]
    return bodies


@pytest.mark.parametrize("body", _bodies(), ids=json.dumps)
def test_the_batch_schema_says_what_the_model_says_of_input_items_and_format(body: dict[str, Any]) -> None:
    if "format" in body and body["format"] is None:
        # A null can not be one of an enum's values in the deployed schema (CDK drops a null from a
        # list), so the API refuses a null format, which the model takes as left out.
        assert not BATCH_VALIDATOR.is_valid(body)
    else:
        assert BATCH_VALIDATOR.is_valid(body) == _batch_accepts(body)

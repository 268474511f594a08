"""The API's request schema and the workflow's input check agree: one set of rules."""

from typing import Any

import pytest
from jsonschema import Draft4Validator

from common.errors import InvalidInput
from common.request import parse_request
from common.schema import request_schema
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

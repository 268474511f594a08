"""The workflow's input check under hostile input: every request is either accepted and valid, or
rejected as InvalidInput naming a field, in a short message with no stack trace and no long value
of the request repeated. Never any other exception."""

import json
from typing import Any

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from common.errors import InvalidInput
from common.generators import FAMILIES, family_of
from common.request import parse_request
from common.sections import MODEL_ID
from common.seed_events import FLAT_KEYS
from common.settings import Settings
from tests.property.checks import assert_clean_rejection, assert_valid, classify, request_field_names
from tests.property.strategies import (
    CONTROL_CHARS,
    DEPLOYED,
    GENERATOR_IDS,
    SETTINGS,
    flattened,
    json_values,
    near_valid_requests,
    structured_requests,
    valid_requests,
)

# As the `settings` fixture has it (no model allow-list), and as deployed (cdk.json's allow-list).
DEPLOYMENTS = pytest.mark.parametrize("deployment", [SETTINGS, DEPLOYED], ids=["open-models", "allow-list"])


def check(raw: Any, deployment: Settings = SETTINGS) -> None:
    outcome = classify(raw, deployment)
    if isinstance(outcome, InvalidInput):
        event(f"rejected: {str(outcome).split(':', 1)[0][:30]}")
        assert_clean_rejection(outcome, raw, request_field_names(raw))
    else:
        event("accepted")
        assert_valid(outcome, deployment)


@DEPLOYMENTS
@settings(max_examples=150)
@given(json_values())
def test_any_json_value_is_accepted_and_valid_or_rejected_naming_a_field(deployment: Settings, raw: Any) -> None:
    check(raw, deployment)


@DEPLOYMENTS
@settings(max_examples=150)
@given(json_values().map(lambda value: value if isinstance(value, dict) else {"prompt": "a fox", "x": value}))
def test_any_json_object_is_accepted_and_valid_or_rejected_naming_a_field(deployment: Settings, raw: Any) -> None:
    check(raw, deployment)


@DEPLOYMENTS
@settings(max_examples=400)
@given(near_valid_requests())
@example({"prompt": "a", "output_s3_key_prefix": "../x"})
@example({"prompt": "a", "output": {"prefix": "_staging/x"}})
@example({"prompt": "a", "generator": {"model_id": "x" * 63}})
@example({"prompt": "a", "max_retry_attempts": 10, "max_prompt_revisions": 10, "candidates": 4})
@example({"prompt": "a", "sd_seed": 1, "generator": {"seed": 2}})
@example({"prompt": "a", **{f"zz_{'k' * 120}_{n}": "v" for n in range(40)}})
@example({"prompt": "a", "output": {"bucket": "Not_A_Bucket", "prefix": "a" * 300}, "validator": [1]})
def test_near_valid_requests_are_accepted_and_valid_or_rejected_naming_a_field(
    deployment: Settings, raw: dict[str, Any]
) -> None:
    check(raw, deployment)


@settings(max_examples=300)
@given(valid_requests())
def test_valid_requests_are_accepted_and_keep_the_invariants(raw: dict[str, Any]) -> None:
    request = parse_request(raw, SETTINGS)
    assert_valid(request, SETTINGS)
    assert request.prompt == raw["prompt"]


@settings(max_examples=150)
@given(structured_requests().flatmap(lambda raw: st.tuples(st.just(raw), flattened(raw))))
def test_flat_seed_keys_mean_the_same_as_the_structured_request(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    structured, flat = pair
    assert parse_request(flat, SETTINGS) == parse_request(structured, SETTINGS)


# ---------------------------------------------------------------------------------------------
# Bugs the properties above found and that are fixed: kept as focused regression properties.

seed_prefixed = st.sampled_from(["sdxl_", "nova_canvas_", "nova_pro_validate_", "nova_pro_revise_"])


@settings(max_examples=30)
@given(
    st.builds(
        lambda prefix, rest, section: {"prompt": "a", f"{prefix}{rest}": 2, **section},
        seed_prefixed,
        st.sampled_from(["number_of_images", "sampler", "x"]),
        st.sampled_from([{}, {"generator": 5}, {"validator": None}, {"reviser": []}]),
    )
)
@example({"prompt": "a", "nova_canvas_number_of_images": 2})
@example({"prompt": "a", "sdxl_sampler": 1})
def test_seed_prefixed_keys_never_crash_the_input_check(raw: dict[str, Any]) -> None:
    check(raw)


@DEPLOYMENTS
@settings(max_examples=20)
@given(
    st.builds(
        lambda key, n: {"prompt": "a", key: "a." + "b" * n},
        st.sampled_from(["sd_model_id", "claude_validate_model_id", "claude_revise_model_id"]),
        st.integers(2000, 5000),
    )
)
@example({"prompt": "a", "generator": {"model_id": "x" * 2000}})
@example({"prompt": "a", "claude_validate_model_id": "a." + "b" * 2000})
def test_a_model_id_is_not_echoed_at_length(deployment: Settings, raw: dict[str, Any]) -> None:
    check(raw, deployment)


@settings(max_examples=20)
@given(
    st.builds(
        lambda key, digits: {"prompt": "a", key: int("9" * digits)},
        st.sampled_from(["sdxl_width", "sdxl_height"]),
        st.integers(64, 3000),
    )
)
@example({"prompt": "a", "sdxl_width": 10**2500})
def test_size_errors_do_not_echo_huge_numbers(raw: dict[str, Any]) -> None:
    check(raw)


# A value each seed key may take alone, by the field it fills.
ALONE = {"steps": 30, "width": 1024, "height": 1024, "seed": 1, "cfg_scale": 7.0, "quality": "premium"}
ALONE |= {"style_preset": "anime", "temperature": 0.5, "top_p": 0.5, "top_k": 10, "max_tokens": 1000, "candidates": 2}
IMPLYING_KEYS = sorted(key for key, (family, _) in FLAT_KEYS.items() if family.implies)


@pytest.mark.parametrize("key", IMPLYING_KEYS)
def test_a_seed_systems_key_alone_picks_the_model_that_system_used(key: str) -> None:
    family, name = FLAT_KEYS[key]
    request = parse_request({"prompt": "a", key: ALONE[name]}, SETTINGS)
    assert getattr(request, family.implies).model_id == family.model


def test_every_image_family_has_valid_requests() -> None:
    # The edit services only edit: a valid request for them names a source image in S3, which these
    # properties do not make (tests/unit/test_edits.py and tests/statemachine/test_edits.py do).
    assert set(GENERATOR_IDS) == {family.family for family in FAMILIES} - {"stability-edit"}
    assert {(tag, getattr(family_of(i), "family", None)) for tag, ids in GENERATOR_IDS.items() for i in ids} == {
        (tag, tag) for tag in GENERATOR_IDS
    }


# ---------------------------------------------------------------------------------------------
# Bugs the properties found, fixed: each test states the rule and keeps its minimal example.


@settings(max_examples=20)
@given(st.text(min_size=1, max_size=30).map(lambda tail: {"prompt": "a", "sd_model_id": f"stability.sd3-{tail}"}))
@example({"prompt": "a", "sd_model_id": "stability.sd3-5-large-v1:0\nTraceback (most recent call last):"})
@example({"prompt": "a", "generator": {"model_id": "stability.sd3 x"}})
def test_bug_an_accepted_image_model_id_is_a_bedrock_model_id(raw: dict[str, Any]) -> None:
    outcome = classify(raw, SETTINGS)
    if not isinstance(outcome, InvalidInput):
        assert MODEL_ID.match(outcome.generator.model_id), repr(outcome.generator.model_id)
        assert type(outcome.generator) is family_of(outcome.generator.model_id)


def test_bug_the_number_of_images_key_alone_picks_nova_canvas() -> None:
    request = parse_request({"prompt": "a", "nova_canvas_number_of_images": 2}, SETTINGS)
    assert (request.generator.model_id, request.candidates) == ("amazon.nova-canvas-v1:0", 2)


C1_CONTROLS = "".join(chr(c) for c in range(0x80, 0xA0))


@settings(max_examples=20)
@given(st.sampled_from(C1_CONTROLS).map(lambda c: {"prompt": f"a{c}b"}))
@example({"prompt": "a\x9b31mb"})
def test_fixed_bug_an_accepted_prompt_has_no_c1_control_characters(raw: dict[str, Any]) -> None:
    outcome = classify(raw, SETTINGS)
    if not isinstance(outcome, InvalidInput):
        assert not set(outcome.prompt) & set(C1_CONTROLS), repr(outcome.prompt)


@settings(max_examples=20)
@given(st.sampled_from(CONTROL_CHARS).map(lambda c: {"prompt": "a", "prompt_template": f"{c}{{prompt}}"}))
@example({"prompt": "a", "prompt_template": "{prompt}\x00"})
def test_fixed_bug_an_accepted_prompt_template_has_no_control_characters(raw: dict[str, Any]) -> None:
    outcome = classify(raw, SETTINGS)
    if not isinstance(outcome, InvalidInput):
        assert not set(outcome.prompt_template or "") & set(CONTROL_CHARS), json.dumps(outcome.prompt_template)

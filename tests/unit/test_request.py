"""The run request: defaults, the seed events' flat keys, and rules that name the field."""

from typing import Any

import pytest

from common.errors import InvalidInput
from common.request import parse_request
from tests.conftest import load_event


def test_every_field_but_prompt_has_a_default(settings: Any) -> None:
    request = parse_request({"prompt": "a lighthouse at dusk"}, settings)

    assert request.max_retry_attempts == 3 and request.max_prompt_revisions == 2
    assert request.output.bucket == "stack-bucket" and request.output.prefix == "generated-images"
    assert request.generator.model_id == "stability.sd3-5-large-v1:0"
    assert request.generator.model_dump() == {
        "model_id": "stability.sd3-5-large-v1:0",
        "aspect_ratio": "1:1",
        "output_format": "png",
        "seed": 0,
    }
    assert request.validator.model_id == request.reviser.model_id == "us.anthropic.claude-sonnet-4-6"
    assert request.validate_against == "original"


def test_the_s1_event_maps_onto_the_structured_request(settings: Any) -> None:
    allowed = settings.model_copy(update={"extra_output_buckets": ("your-output-bucket-name",)})
    request = parse_request(load_event("s1_example.json"), allowed)

    assert request.max_retry_attempts == 5 and request.max_prompt_revisions == 5
    assert request.output.model_dump() == {"bucket": "your-output-bucket-name", "prefix": "generated-images"}
    assert request.validator.model_dump() == {
        "model_id": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "temperature": 1.0,
        "top_p": 0.999,
        "top_k": 250,
        "max_tokens": 64000,
    }
    assert request.reviser == request.validator
    assert request.generator.model_dump()["aspect_ratio"] == "1:1"


def test_structured_input_is_accepted(settings: Any) -> None:
    request = parse_request(
        {
            "prompt": "a fox",
            "output": {"prefix": "foxes/run-1"},
            "generator": {"aspect_ratio": "16:9", "output_format": "jpeg", "seed": 42},
            "validator": {"model_id": "us.amazon.nova-pro-v1:0", "top_k": 50},
        },
        settings,
    )
    assert request.output.prefix == "foxes/run-1"
    assert request.generator.model_dump()["aspect_ratio"] == "16:9"
    assert request.validator.top_k == 50


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([1, 2], "request: must be a JSON object"),
        ({"prompt": "   "}, "prompt: must not be blank"),
        ({"prompt": "a\x07b"}, "prompt: must not contain control characters"),
        ({"prompt": "x" * 4001}, "prompt: String should have at most 4000 characters"),
        ({"prompt": "a", "max_retry_attempts": "five"}, "max_retry_attempts: Input should be a valid integer"),
        ({"prompt": "a", "max_retry_attempts": 11}, "max_retry_attempts: Input should be less than or equal to 10"),
        ({"prompt": "a", "sd_seed": 4294967296}, "generator.seed: Input should be less than or equal to 4294967295"),
        ({"prompt": "a", "sd_output_format": "gif"}, "generator.output_format: Input should be 'png' or 'jpeg'"),
        ({"prompt": "a", "generator": {"steps": 30}}, "generator.steps: unknown field"),
        ({"prompt": "a", "output": "bucket"}, "output: must be an object"),
        ({"prompt": "a", "output_s3_key_prefix": "a/../b"}, "output.prefix"),
        ({"prompt": "a", "output_s3_key_prefix": "_staging"}, "output.prefix"),
        (
            {"prompt": "a", "output_s3_bucket_name": "Not_A_Bucket"},
            "output.bucket: must be an S3 bucket name",
        ),
        ({"prompt": "a", "claude_validate_model_id": "claude please"}, "validator.model_id"),
        ({"prompt": "a", "sd_seed": 1, "generator": {"seed": 2}}, "sd_seed: conflicts with generator.seed"),
        ({"prompt": "a", "validate_against": "latest"}, "validate_against"),
    ],
)
def test_a_broken_rule_is_invalid_input_naming_the_field(settings: Any, event: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request(event, settings)
    assert message in str(raised.value)


def test_a_bucket_the_stack_may_not_write_is_refused_with_the_way_to_allow_it(settings: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request({"prompt": "a", "output_s3_bucket_name": "someone-elses-bucket"}, settings)
    message = str(raised.value)
    assert message.startswith("output.bucket: 'someone-elses-bucket' is not a bucket this stack may write")
    assert "imgloop:extra_output_buckets" in message


def test_a_model_outside_the_allow_list_is_refused_with_the_way_to_allow_it(settings: Any) -> None:
    limited = settings.model_copy(
        update={"allowed_models": ("stability.sd3-5-large-v1:0", "us.anthropic.claude-sonnet-4-6")}
    )
    assert parse_request({"prompt": "a"}, limited).generator.model_id == "stability.sd3-5-large-v1:0"
    with pytest.raises(InvalidInput) as raised:
        parse_request({"prompt": "a", "claude_validate_model_id": "us.anthropic.claude-opus-4-6-v1"}, limited)
    assert str(raised.value).startswith(
        "validator.model_id: 'us.anthropic.claude-opus-4-6-v1' is not on this stack's model allow-list"
    )
    assert "imgloop:allowed_models" in str(raised.value)


def test_the_docs_table_of_seed_keys_names_every_key_and_implied_model() -> None:
    """The table people read (docs/requests.md) is checked against the one table the code maps with."""
    import itertools
    import re
    from pathlib import Path

    from common.seed_events import FLAT_KEYS, KEY_FAMILIES

    page = (Path(__file__).parents[2] / "docs" / "requests.md").read_text()
    table = page.split("| flat key | structured field |", 1)[1].split("\n\n", 1)[0]
    written: set[str] = set()
    for cell in re.findall(r"`([a-z0-9_{},*]+)`", table):
        # `sdxl_{cfg_scale,steps}` spells several keys, `nova_pro_validate_*` a whole key family.
        parts = [p.split(",") for p in re.split(r"[{}]", cell)]
        written.update("".join(combo) for combo in itertools.product(*parts))
    for key, (family, _) in FLAT_KEYS.items():
        assert key in written or f"{family.prefix}*" in written, key
    for family in KEY_FAMILIES:
        if family.implies:
            assert f"`{family.model}`" in table, family.prefix

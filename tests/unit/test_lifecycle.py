"""Retired models: the successor runs in their place with the parameters translated per family, or
the run fails at once naming the successor; models Bedrock still serves are left alone."""

from typing import Any

import pytest

from common.errors import ModelUnavailable
from common.lifecycle import with_successors
from common.request import parse_request

SD35 = "stability.sd3-5-large-v1:0"


def _checked(settings: Any, **fields: Any) -> Any:
    return with_successors(parse_request({"prompt": "a fox", **fields}, settings))


@pytest.mark.parametrize(
    ("generator", "aspect_ratio", "note"),
    [
        (
            {"model_id": "stability.stable-diffusion-xl-v1", "width": 640, "height": 1536, "cfg_scale": 9, "seed": 8},
            "9:21",
            f"640x1536 became aspect_ratio 9:21; cfg_scale dropped: {SD35} has no such parameter",
        ),
        (
            {"model_id": "amazon.nova-canvas-v1:0", "width": 1280, "height": 720, "quality": "premium", "seed": 8},
            "16:9",
            f"1280x720 became aspect_ratio 16:9; quality dropped: {SD35} has no such parameter",
        ),
        (
            {"model_id": "amazon.titan-image-generator-v2:0", "width": 768, "height": 1152, "seed": 8},
            "2:3",
            "768x1152 became aspect_ratio 2:3",
        ),
        (
            {"model_id": "amazon.titan-image-generator-v1", "width": 1408, "height": 640, "seed": 8},
            "21:9",
            "1408x640 became aspect_ratio 21:9",
        ),
    ],
)
def test_a_retired_image_model_is_replaced_with_its_size_and_seed_carried_over(
    settings: Any, generator: dict[str, Any], aspect_ratio: str, note: str
) -> None:
    request, [substitution] = _checked(settings, generator=generator)

    assert request.generator.model_dump() == {
        "model_id": SD35,
        "seed": 8,
        "aspect_ratio": aspect_ratio,
        "output_format": "png",
    }
    assert (substitution.section, substitution.retired, substitution.successor) == (
        "generator",
        generator["model_id"],
        SD35,
    )
    assert substitution.note == note


def test_a_cross_region_profile_keeps_its_profile_for_the_successor(settings: Any) -> None:
    request, [substitution] = _checked(
        settings, claude_validate_model_id="eu.anthropic.claude-3-7-sonnet-20250219-v1:0"
    )
    assert request.validator.model_id == substitution.successor == "eu.anthropic.claude-sonnet-4-6"
    plain, [bare] = _checked(settings, claude_revise_model_id="anthropic.claude-3-5-sonnet-20240620-v1:0")
    assert plain.reviser.model_id == bare.successor == "anthropic.claude-sonnet-4-6"


LEGACY_JUDGE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_a_legacy_model_gives_way_to_its_successor_and_the_run_says_so(settings: Any) -> None:
    request, [substitution] = _checked(settings, claude_validate_model_id=LEGACY_JUDGE)
    assert request.validator.model_id == substitution.successor == "us.anthropic.claude-sonnet-4-6"
    assert substitution.legacy and "is Legacy on Bedrock" in substitution.line
    assert '"legacy_models": "keep" runs it' in substitution.line


def test_a_legacy_model_is_kept_on_request_even_when_retired_ones_fail(settings: Any) -> None:
    request, substitutions = _checked(
        settings, legacy_models="keep", retired_models="fail", claude_validate_model_id=LEGACY_JUDGE
    )
    assert substitutions == [] and request.validator.model_id == LEGACY_JUDGE


def test_the_fail_policy_names_the_successor(settings: Any) -> None:
    with pytest.raises(ModelUnavailable) as raised:
        _checked(
            settings, retired_models="fail", claude_validate_model_id="us.anthropic.claude-3-7-sonnet-20250219-v1:0"
        )
    assert str(raised.value) == (
        "validator.model_id: us.anthropic.claude-3-7-sonnet-20250219-v1:0 is retired on Bedrock; "
        'its successor is us.anthropic.claude-sonnet-4-6 (set "retired_models": "successor" to run it in its place)'
    )


def test_an_unknown_policy_is_invalid_input(settings: Any) -> None:
    from common.errors import InvalidInput

    with pytest.raises(InvalidInput, match=r"retired_models: Input should be 'successor' or 'fail'"):
        _checked(settings, retired_models="ignore")


def test_a_successor_must_be_on_the_deployments_allow_list_too(settings: Any) -> None:
    from common.errors import InvalidInput
    from common.lifecycle import check_request

    limited = settings.model_copy(update={"allowed_models": (SD35, "us.anthropic.claude-sonnet-4-6")})
    request, [substitution] = check_request({"prompt": "a fox", "sdxl_seed": 3}, limited)
    assert request.generator.model_id == SD35 and substitution.retired == "stability.stable-diffusion-xl-v1"
    with pytest.raises(InvalidInput, match=r"validator\.model_id: 'eu\.anthropic\.claude-sonnet-4-6' is not on"):
        check_request(
            {"prompt": "a fox", "claude_validate_model_id": "eu.anthropic.claude-3-7-sonnet-20250219-v1:0"}, limited
        )


def test_a_bare_retired_id_gets_the_successor_id_the_deployment_allows(settings: Any) -> None:
    from common.lifecycle import check_request

    limited = settings.model_copy(update={"allowed_models": (SD35, "us.anthropic.claude-sonnet-4-6")})
    request, [substitution] = check_request(
        {"prompt": "a fox", "claude_validate_model_id": "anthropic.claude-3-7-sonnet-20250219-v1:0"}, limited
    )
    assert request.validator.model_id == substitution.successor == "us.anthropic.claude-sonnet-4-6"


def test_the_fail_policy_names_the_model_an_edit_would_run_on(settings: Any) -> None:
    edit = {
        "prompt": "add a sheep",
        "mode": "inpaint",
        "source_image": "s3://stack-bucket/uploads/a.png",
        "mask_image": "s3://stack-bucket/uploads/m.png",
        "retired_models": "fail",
        "generator": {"model_id": "stability.stable-diffusion-xl-v1"},
    }
    from common.lifecycle import check_request

    with pytest.raises(ModelUnavailable, match=r"its successor is us\.stability\.stable-image-inpaint-v1:0"):
        check_request(edit, settings)

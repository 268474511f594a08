"""Each image family: the exact request body, its response shapes, and its parameter ranges."""

import random
from typing import Any

import pytest
from pydantic import ValidationError

from common.errors import InvalidInput
from common.generators.base import GeneratedImage, RefusedGeneration
from common.request import MAX_ATTEMPTS, MAX_CANDIDATES, MAX_REVISIONS, parse_request
from imgloop.local.standin.answers import filtered_response, image_response
from tests.unit.fakes import generator

PNG = b"\x89PNG fake"


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("stability.sd3-5-large-v1:0", "stability"),
        ("stability.stable-image-ultra-v1:1", "stability"),
        ("stability.stable-image-core-v1:1", "stability"),
        ("stability.sd3-large-v1:0", "stability"),
        ("stability.stable-diffusion-xl-v1", "sdxl"),
        ("amazon.nova-canvas-v1:0", "nova-canvas"),
        ("amazon.titan-image-generator-v2:0", "titan-image"),
        ("amazon.titan-image-generator-v1", "titan-image"),
    ],
)
def test_the_family_is_chosen_by_model_id(model_id: str, family: str) -> None:
    assert generator(model_id).family == family


def test_an_unknown_image_model_is_invalid_input_naming_the_families(settings: Any) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request({"prompt": "a fox", "generator": {"model_id": "amazon.nova-reel-v1:0"}}, settings)
    assert str(raised.value) == (
        "generator.model_id: must name a model of a supported image family "
        "(stability, stability-edit, sdxl, nova-canvas, titan-image)"
    )


def test_sdxl_body_weights_the_negative_prompt() -> None:
    sdxl = generator("stability.stable-diffusion-xl-v1", style_preset="photographic")
    body = sdxl.request_body("a cabin", "people", 7)
    assert body == {
        "text_prompts": [{"text": "a cabin", "weight": 1.0}, {"text": "people", "weight": -1.0}],
        "cfg_scale": 7,
        "steps": 30,
        "width": 1024,
        "height": 1024,
        "seed": 7,
        "style_preset": "photographic",
    }


@pytest.mark.parametrize("finish", ["CONTENT_FILTERED", "ERROR"])
def test_sdxl_finish_reasons_other_than_success_are_refusals(finish: str) -> None:
    sdxl = generator("stability.stable-diffusion-xl-v1")
    answer = image_response("sdxl", 3, [PNG])
    answer["artifacts"][0]["finishReason"] = finish
    result = sdxl.read_response(answer, 3)
    assert isinstance(result, RefusedGeneration) and result.reason == f"model refused: finishReason {finish}"
    ok = sdxl.read_response(image_response("sdxl", 3, [PNG]), 3)
    assert isinstance(ok, GeneratedImage) and ok.seed == 3


@pytest.mark.parametrize("model_id", ["amazon.nova-canvas-v1:0", "amazon.titan-image-generator-v2:0"])
def test_amazon_body_is_a_text_image_task(model_id: str) -> None:
    amazon = generator(model_id, quality="premium", cfg_scale=8)
    body = amazon.request_body("a lighthouse", "fog", 42)
    assert body == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a lighthouse", "negativeText": "fog"},
        "imageGenerationConfig": {
            "numberOfImages": 1,
            "width": 1024,
            "height": 1024,
            "cfgScale": 8,
            "quality": "premium",
            "seed": 42,
        },
    }
    refused = amazon.read_response(filtered_response("amazon", 42), 42)
    assert isinstance(refused, RefusedGeneration)
    assert refused.reason == "model refused: All of the generated images have been blocked by our content filters."


@pytest.mark.parametrize(
    ("model_id", "limit"), [("amazon.nova-canvas-v1:0", 1024), ("amazon.titan-image-generator-v1", 512)]
)
def test_long_prompts_are_cut_at_a_sentence_or_comma_break(model_id: str, limit: int) -> None:
    family = generator(model_id)
    text = "A lighthouse on a cliff. " + "waves, " * 300
    fitted = family.fit(text)
    assert len(fitted) <= limit and fitted.endswith(",")
    assert family.fit("short") == "short"


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"sdxl_width": 1000}, "generator: width x height 1000x1024 is not an SDXL size"),
        ({"sdxl_steps": 5}, "generator.steps: Input should be greater than or equal to 10"),
        ({"sdxl_cfg_scale": 36}, "generator.cfg_scale: Input should be less than or equal to 35"),
        ({"sdxl_style_preset": "watercolour"}, "generator.style_preset: Input should be"),
        ({"nova_canvas_width": 1000}, "width and height must be 320-4096 and divisible by 16"),
        ({"nova_canvas_width": 4096, "nova_canvas_height": 4096}, "at most 4,194,304 pixels"),
        ({"nova_canvas_seed": 858993460}, "generator.seed: Input should be less than or equal to 858993459"),
        ({"nova_canvas_cfg_scale": 1.0}, "generator.cfg_scale: Input should be greater than or equal to 1.1"),
        (
            {"generator": {"model_id": "amazon.titan-image-generator-v2:0", "width": 1000, "height": 1000}},
            "is not a Titan size",
        ),
        ({"sd_aspect_ratio": "4:3"}, "generator.aspect_ratio: Input should be"),
        ({"candidates": 5}, "candidates: Input should be less than or equal to 4"),
        (
            {"max_retry_attempts": 10, "max_prompt_revisions": 10, "candidates": 2},
            "request: a run may make at most 120 images; "
            "max_retry_attempts x (max_prompt_revisions + 1) x candidates = 220",
        ),
        ({"prompt_template": "no slot here"}, "prompt_template: must contain the slot {prompt}"),
    ],
)
def test_parameters_are_checked_against_the_familys_ranges(settings: Any, event: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_request({"prompt": "a fox", **event}, settings)
    assert message in str(raised.value)


def test_seed_zero_is_drawn_inside_the_familys_range() -> None:
    rng = random.Random(3)
    for model_id, top in [("amazon.nova-canvas-v1:0", 858993459), ("stability.sd3-5-large-v1:0", 4294967294)]:
        seeds = [generator(model_id).choose_seed(rng) for _ in range(200)]
        assert all(1 <= s <= top for s in seeds) and len(set(seeds)) > 150
        assert generator(model_id, seed=11).choose_seed(rng) == 11


def test_another_familys_parameters_are_rejected() -> None:
    with pytest.raises(ValidationError):
        generator("amazon.nova-canvas-v1:0", steps=30)


# Every slot a request can name: revisions x attempts x candidates at their bounds.
MAX_IMAGE_SLOTS = (MAX_REVISIONS + 1) * MAX_ATTEMPTS * MAX_CANDIDATES


@pytest.mark.parametrize("model_id", ["amazon.nova-canvas-v1:0", "stability.sd3-5-large-v1:0"])
@pytest.mark.parametrize("given", [1, 11, 858993459])
def test_a_given_seed_is_the_first_images_and_every_later_image_gets_its_own(model_id: str, given: int) -> None:
    chosen = generator(model_id, seed=given)
    top = type(chosen).max_seed
    every = [chosen.choose_seed(random.Random(), image) for image in range(MAX_IMAGE_SLOTS)]

    assert every[0] == given
    assert len(set(every)) == len(every)  # no image of the request is drawn from the same seed twice
    assert all(1 <= seed <= top for seed in every)  # 0 would mean "any seed" to the model
    assert every == [generator(model_id, seed=given).choose_seed(random.Random(), n) for n in range(MAX_IMAGE_SLOTS)]

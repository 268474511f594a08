"""Each seed system's own event runs unchanged, with its model family's real request body."""

from typing import Any

from tests.conftest import load_event
from tests.statemachine.helpers import exits, manifest


def test_s2_sdxl_with_claude(runner: Any, s3: Any) -> None:
    run = runner(reject_first=1)
    result = run.run(load_event("s2_example.json"), "seed-s2")

    assert result.status == "SUCCEEDED"
    generate = run.standin.calls_of("InvokeModel")[0]
    assert generate.model_id == "stability.stable-diffusion-xl-v1"
    seed = generate.body.pop("seed")
    assert 1 <= seed <= 4294967295
    assert generate.body == {
        "text_prompts": [{"text": "A cozy cabin in a snowy forest at night, warm light in the windows", "weight": 1.0}],
        "cfg_scale": 30.0,
        "steps": 150,
        "width": 1024,
        "height": 1024,
    }
    judge = run.standin.calls_of("Converse")[0]
    assert judge.model_id == "us.anthropic.claude-sonnet-4-6"  # the seed's Claude 3.5 Sonnet v1 is retired
    assert judge.body["inferenceConfig"] == {"maxTokens": 4096, "temperature": 1.0}
    assert judge.body["additionalModelRequestFields"] == {"top_k": 250}
    assert result.output["key"].endswith("/r00-a02.png")


def test_s3_nova_canvas_with_nova_pro(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run(load_event("s3_example.json"), "seed-s3")

    assert result.status == "SUCCEEDED"
    generate = run.standin.calls_of("InvokeModel")[0]
    assert generate.model_id == "amazon.nova-canvas-v1:0"
    seed = generate.body["imageGenerationConfig"].pop("seed")
    assert 1 <= seed <= 858993459
    assert generate.body == {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "A lighthouse on a rocky coast at sunset, waves crashing, seagulls in the sky"},
        "imageGenerationConfig": {
            "numberOfImages": 1,
            "width": 1024,
            "height": 1024,
            "cfgScale": 10.0,
            "quality": "standard",
        },
    }
    judge = run.standin.calls_of("Converse")[0]
    assert judge.model_id == "us.amazon.nova-pro-v1:0"
    assert judge.body["inferenceConfig"] == {"maxTokens": 5120, "temperature": 1.0, "topP": 0.9}
    assert judge.body["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 50}}
    assert manifest(s3, result)["entries"][0]["seed"] == seed


def test_s4_translates_then_fills_the_template(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run(load_event("s4_blog_cover.json"), "seed-s4")

    assert result.status == "SUCCEEDED"
    assert result.states_entered()[:5] == [
        "Check input",
        "Start with the original prompt",
        "Translate first?",
        "Translate prompt",
        "Use the translation",
    ]
    [translated] = exits(result, "Translate prompt")
    english = translated["proposal"]["prompt"]
    assert english == "English rendering of '宇宙の果てまで旅する猫の物語'"  # the preamble is stripped
    generate = run.standin.calls_of("InvokeModel")[0]
    assert generate.body["text_prompts"][0]["text"] == (
        f'A Top quality, unexpected and original landscape or space photo without people inspired by "{english}".'
    )
    entry = manifest(s3, result)["entries"][0]
    assert entry["prompt"] == english and entry["sent_prompt"] == generate.body["text_prompts"][0]["text"]
    # The judge checks the image against the requirement as written, in Japanese.
    judge_text = run.standin.calls_of("Converse")[1].body["messages"][0]["content"][1]["text"]
    assert "宇宙の果てまで旅する猫の物語" in judge_text

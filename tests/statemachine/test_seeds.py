"""Each seed system's own event runs unchanged on today's Bedrock: retired models are replaced by their
catalogued successors (the default `retired_models` policy), with the parameters translated, and the
substitution is shown where a person looks: the first state's output, the manifest and the result."""

from typing import Any

from imgloop.local.runner import run_folder
from tests.conftest import load_event
from tests.statemachine.helpers import exits, manifest

SD35 = "stability.sd3-5-large-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-6"


def _substitutions(result: Any, s3: Any) -> list[str]:
    """The substitutions as the history, the manifest and the output tell them: the same in all three."""
    [opened] = exits(result, "Check input")
    recorded = [s["section"] + ": " + s["retired"] for s in manifest(s3, result)["substitutions"]]
    assert [line.split(" is retired")[0] for line in opened["substitutions"]] == recorded
    if result.output:
        assert result.output["substitutions"] == opened["substitutions"]
    return list(opened["substitutions"])


def test_s1_claude_37_is_replaced_by_its_successor_keeping_the_sampling(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run(load_event("s1_example.json"), "seed-s1")

    assert result.status == "SUCCEEDED"
    lines = _substitutions(result, s3)
    assert lines == [
        f"{role}: us.anthropic.claude-3-7-sonnet-20250219-v1:0 is retired on Bedrock; {SONNET} ran instead "
        "(sampling settings kept)"
        for role in ("validator", "reviser")
    ]
    judge = run.standin.calls_of("Converse")[0]
    assert judge.model_id == SONNET
    # Sonnet 4.6 takes temperature or top_p, not both; top_k goes in the model's own fields.
    assert judge.body["inferenceConfig"] == {"maxTokens": 64000, "temperature": 1.0}
    assert judge.body["additionalModelRequestFields"] == {"top_k": 250}


def test_s2_sdxl_is_drawn_by_sd35_with_its_size_as_an_aspect_ratio(runner: Any, s3: Any) -> None:
    run = runner(reject_first=1)
    event = {**load_event("s2_example.json"), "sdxl_width": 1344, "sdxl_height": 768}
    result = run.run(event, "seed-s2")

    assert result.status == "SUCCEEDED"
    assert _substitutions(result, s3) == [
        f"generator: stability.stable-diffusion-xl-v1 is retired on Bedrock; {SD35} ran instead "
        f"(1344x768 became aspect_ratio 16:9; cfg_scale, steps dropped: {SD35} has no such parameter)"
    ]
    generate = run.standin.calls_of("InvokeModel")[0]
    assert generate.model_id == SD35
    seed = generate.body.pop("seed")
    assert 1 <= seed <= 4294967295
    assert generate.body == {
        "prompt": "A cozy cabin in a snowy forest at night, warm light in the windows",
        "mode": "text-to-image",
        "aspect_ratio": "16:9",
        "output_format": "png",
    }
    judge = run.standin.calls_of("Converse")[0]
    assert judge.model_id == SONNET  # S2 fixed the retired Claude 3.5 Sonnet v1 in code: the default judge
    assert judge.body["inferenceConfig"] == {"maxTokens": 4096, "temperature": 1.0}
    assert result.output["key"].endswith("/r00-a02.png")


def test_s3_nova_canvas_is_drawn_by_sd35_and_judged_by_nova_pro(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run(load_event("s3_example.json"), "seed-s3")

    assert result.status == "SUCCEEDED"
    assert _substitutions(result, s3) == [
        f"generator: amazon.nova-canvas-v1:0 is retired on Bedrock; {SD35} ran instead "
        f"(1024x1024 became aspect_ratio 1:1; cfg_scale dropped: {SD35} has no such parameter)"
    ]
    generate = run.standin.calls_of("InvokeModel")[0]
    assert generate.model_id == SD35 and generate.body["aspect_ratio"] == "1:1"
    judge = run.standin.calls_of("Converse")[0]
    assert judge.model_id == "us.amazon.nova-pro-v1:0"
    assert judge.body["inferenceConfig"] == {"maxTokens": 5120, "temperature": 1.0, "topP": 0.9}
    assert judge.body["additionalModelRequestFields"] == {"inferenceConfig": {"topK": 50}}
    assert manifest(s3, result)["entries"][0]["seed"] == generate.body["seed"]


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
    assert generate.body["prompt"] == (
        f'A Top quality, unexpected and original landscape or space photo without people inspired by "{english}".'
    )
    entry = manifest(s3, result)["entries"][0]
    assert entry["prompt"] == english and entry["sent_prompt"] == generate.body["prompt"]
    # The judge checks the image against the requirement as written, in Japanese.
    judge_text = run.standin.calls_of("Converse")[1].body["messages"][0]["content"][1]["text"]
    assert "宇宙の果てまで旅する猫の物語" in judge_text


def test_the_fail_policy_ends_at_once_as_model_unavailable_naming_the_successor(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run({**load_event("s2_example.json"), "retired_models": "fail"}, "seed-s2-fail")

    assert result.status == "FAILED" and result.error == "ModelUnavailable"
    assert result.cause == (
        f"generator.model_id: stability.stable-diffusion-xl-v1 is retired on Bedrock; its successor is {SD35} "
        '(set "retired_models": "successor" to run it in its place)'
    )
    assert run.standin.calls == []
    assert s3.list_objects_v2(Bucket="your-output-bucket-name").get("KeyCount", 0) == 0


def test_s5s_fixed_seed_starts_the_sequence_and_no_attempt_draws_the_same_picture_again(runner: Any, s3: Any) -> None:
    event = {**load_event("s5_text_to_image.json"), "max_retry_attempts": 2, "max_prompt_revisions": 1}

    def seeds_and_pictures(name: str) -> tuple[list[int], list[bytes]]:
        run = runner(reject_first=3)
        result = run.run(event, name)
        assert result.status == "SUCCEEDED"
        entries = manifest(s3, result)["entries"]
        opened = run_folder(result.history)
        assert opened is not None
        pictures = [s3.get_object(Bucket=opened[0], Key=e["key"])["Body"].read() for e in entries]
        assert [call.body["seed"] for call in run.standin.calls_of("InvokeModel")] == [e["seed"] for e in entries]
        return [e["seed"] for e in entries], pictures

    seeds, pictures = seeds_and_pictures("fixed-seed-1")
    again, _ = seeds_and_pictures("fixed-seed-2")

    assert len(seeds) == 4 and seeds[0] == 321  # the event's seed is the first attempt's
    assert len(set(seeds)) == 4 and len(set(pictures)) == 4  # each attempt and revision a new image
    assert again == seeds  # the same request reproduces the same sequence

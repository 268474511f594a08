"""The synthesized state machine, run on moto's interpreter with the real handlers and the stand-in."""

import json
from typing import Any

import pytest

from tests.conftest import load_event
from tests.faults.injector import LAMBDA_SERVICE_ERROR, LAMBDA_THROTTLED, Fault, function_is, inject
from tests.statemachine.helpers import attempts, counters, exits, failures, keys, manifest, verdicts

BUCKET = "imgloop-local-images"
ONE_ATTEMPT = [
    "Make candidates",
    "Generate image",
    "Save image",
    "Validate image",
    "Accepted, try again or revise?",
]


def test_first_try_success_visits_each_state_once_and_files_the_image(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run(load_event("small_budget.json"), "first-try")

    assert result.status == "SUCCEEDED"
    assert result.states_entered() == [
        "Check input",
        "Start with the original prompt",
        "Translate first?",
        *ONE_ATTEMPT,
        "Report success",
        "Done",
    ]
    output = result.output
    assert output["key"] == "generated-images/first-try/r00-a01.png"
    assert output["s3_uri"] == f"s3://{BUCKET}/generated-images/first-try/r00-a01.png"
    assert output["object_console_url"].startswith(f"https://s3.console.aws.amazon.com/s3/object/{BUCKET}?region=")
    assert (output["revision"], output["attempt"], output["images_generated"]) == (0, 1, 1)
    assert output["prompt"] == "A red bicycle leaning on a blue wall, morning light"
    assert output["manifest_key"] == "generated-images/first-try/manifest.json"

    head = s3.head_object(Bucket=BUCKET, Key=output["key"])
    assert head["ContentType"] == "image/png"
    assert head["Metadata"]["model-id"] == "stability.sd3-5-large-v1:0"
    assert head["Metadata"]["execution-id"].endswith(":first-try")
    assert int(head["Metadata"]["seed"]) > 0
    assert keys(s3, BUCKET) == ["generated-images/first-try/manifest.json", "generated-images/first-try/r00-a01.png"]

    record = manifest(s3, result)
    assert record["status"] == "succeeded"
    assert record["winner"] == {"revision": 0, "attempt": 1, "candidate": 1, "key": output["key"]}
    [entry] = record["entries"]
    assert entry["outcome"] == "image" and entry["verdict"]["passed"] is True
    assert entry["seed"] == int(head["Metadata"]["seed"])
    assert [c.operation for c in run.standin.calls] == ["InvokeModel", "Converse"]
    # Every function logs with the execution as its correlation id.
    from common.observability import logger

    assert logger.get_correlation_id() == result.execution_arn


def test_rejected_images_are_retried_with_the_same_prompt(runner: Any, s3: Any) -> None:
    run = runner(reject_first=1)
    result = run.run(load_event("small_budget.json"), "retried")

    assert result.status == "SUCCEEDED"
    assert counters(result, "Generate image") == [(0, 1), (0, 2)]
    assert "Revise prompt" not in result.states_entered()
    assert [v["passed"] for v in verdicts(result)] == [False, True]
    entries = manifest(s3, result)["entries"]
    assert [(e["attempt"], e["verdict"]["passed"]) for e in entries] == [(1, False), (2, True)]
    prompts = {c.body["prompt"] for c in run.standin.calls_of("InvokeModel")}
    assert prompts == {"A red bicycle leaning on a blue wall, morning light"}


def test_a_revised_prompt_follows_when_the_attempts_for_a_prompt_are_used_up(runner: Any, s3: Any) -> None:
    run = runner(reject_first=2)
    result = run.run(load_event("small_budget.json"), "revised")

    assert result.status == "SUCCEEDED"
    assert attempts(result) == [(0, 1), (0, 2), (1, 1)]
    assert result.output["revision"] == 1 and result.output["attempt"] == 1

    [revise_call] = [c for c in run.standin.calls_of("Converse") if "<failures>" in json.dumps(c.body)]
    sent = revise_call.body["messages"][0]["content"][0]["text"]
    assert "attempt 1: score 4/10" in sent and "attempt 2: score 4/10" in sent
    revised = exits(result, "Revise prompt")[0]["proposal"]["prompt"]
    assert run.standin.calls_of("InvokeModel")[-1].body["prompt"] == revised
    assert run.standin.calls_of("InvokeModel")[-1].body["negative_prompt"] == "blurry, distorted, watermark"
    # Every image is judged against the original requirement, not the revised prompt.
    judge_texts = [
        c.body["messages"][0]["content"][1]["text"]
        for c in run.standin.calls_of("Converse")
        if "<failures>" not in json.dumps(c.body)
    ]
    assert all("A red bicycle leaning on a blue wall, morning light" in t for t in judge_texts)
    assert all(revised not in t for t in judge_texts)
    assert [e["prompt"] for e in manifest(s3, result)["entries"]][-1] == revised


def test_a_refused_generation_is_a_failed_attempt_without_a_judge(runner: Any, s3: Any) -> None:
    run = runner(fail_generate_first=1)
    result = run.run(load_event("small_budget.json"), "refused")

    assert result.status == "SUCCEEDED"
    assert result.states_entered()[3:9] == [*ONE_ATTEMPT, "Make candidates"]
    # Validate answers the refusal from the refusal itself: only the second image meets the judge.
    refused, judged = verdicts(result)
    assert (refused["attempt"], refused["key"], refused["passed"], refused["score"]) == (1, None, False, 0)
    assert "only English is supported" in refused["reason"]
    assert (judged["attempt"], judged["passed"]) == (2, True)
    assert [c.operation for c in run.standin.calls if c.operation == "Converse"] == ["Converse"]
    first, second = manifest(s3, result)["entries"]
    assert first["outcome"] == "refused" and first["key"] is None
    assert "only English is supported" in first["refusal"]
    assert second["outcome"] == "image"
    assert result.output["images_generated"] == 1


def test_throttling_is_retried_with_jittered_backoff_and_uses_no_attempt(runner: Any, s3: Any) -> None:
    run = runner(throttle_first=3)
    result = run.run(load_event("small_budget.json"), "throttled")

    assert result.status == "SUCCEEDED"
    assert failures(result) == ["ModelThrottled"] * 3
    assert counters(result, "Generate image") == [(0, 1)]
    assert result.output["attempt"] == 1
    # Full jitter: each wait is drawn from [0, min(MaxDelay, Interval * 2^n)].
    assert len(run.retry_waits) == 3
    for n, wait in enumerate(run.retry_waits):
        assert 0 <= wait <= min(120, 5 * 2**n)
    assert len(manifest(s3, result)["entries"]) == 1


def test_lambda_too_many_requests_is_retried(runner: Any) -> None:
    run = runner()
    generate = function_is("generate")
    inject(
        run,
        Fault("lambda.Invoke", LAMBDA_THROTTLED, when=generate),
        Fault("lambda.Invoke", LAMBDA_SERVICE_ERROR, when=generate),
    )
    result = run.run(load_event("small_budget.json"), "lambda-busy")

    assert result.status == "SUCCEEDED"
    assert failures(result) == ["Lambda.TooManyRequestsException", "Lambda.ServiceException"]
    assert result.output["attempt"] == 1


def test_used_up_budget_fails_as_requirements_not_met_with_every_image_recorded(runner: Any, s3: Any) -> None:
    run = runner(reject_first=99)
    result = run.run(load_event("small_budget.json"), "exhausted")

    assert result.status == "FAILED"
    assert result.error == "RequirementsNotMet"
    assert attempts(result) == [(0, 1), (0, 2), (1, 1), (1, 2)]
    assert result.states_entered()[-3:] == [
        "Accepted, try again or revise?",
        "Report requirements not met",
        "Requirements not met",
    ]
    record = manifest(s3, result)
    assert record["status"] == "requirements_not_met"
    images = [e["key"] for e in record["entries"]]
    assert images == [f"generated-images/exhausted/r{r:02d}-a{a:02d}.png" for r, a in [(0, 1), (0, 2), (1, 1), (1, 2)]]
    assert all(e["verdict"]["passed"] is False for e in record["entries"])
    assert set(images) <= set(keys(s3, BUCKET))
    assert result.cause.startswith(
        "No image met the requirement. 4 image(s) made (4 judged) and 0 generation(s) refused over 2 prompt(s)."
    )
    assert f"s3://{BUCKET}/generated-images/exhausted/r00-a01.png" in result.cause
    # State stays small however many images were made: no bytes, no growing lists.
    sizes = [len(e["stateExitedEventDetails"]["output"]) for e in result.history if "stateExitedEventDetails" in e]
    assert max(sizes) < 6000


def test_the_s1_example_event_is_accepted_unchanged(runner: Any) -> None:
    run = runner()
    result = run.run(load_event("s1_example.json"), "seed-s1")

    assert result.status == "SUCCEEDED"
    generate, judge = run.standin.calls
    assert generate.model_id == "stability.sd3-5-large-v1:0"
    seed = generate.body.pop("seed")
    assert 1 <= seed <= 4294967295
    assert generate.body == {
        "prompt": "A serene landscape with mountains and a lake",
        "mode": "text-to-image",
        "aspect_ratio": "1:1",
        "output_format": "png",
    }
    # The seed's Claude 3.7 Sonnet is retired: its successor judges (tests/statemachine/test_seeds.py).
    assert judge.model_id == "us.anthropic.claude-sonnet-4-6"
    assert judge.body["toolConfig"]["toolChoice"] == {"tool": {"name": "record_verdict"}}
    assert list(judge.body["messages"][0]["content"][0]) == ["image"]
    assert result.output["bucket"] == "your-output-bucket-name"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"prompt": ""}, "prompt"),
        ({"prompt": "a cat", "max_retry_attempts": 0}, "max_retry_attempts"),
        ({"prompt": "a cat", "max_prompt_revisions": 11}, "max_prompt_revisions"),
        ({"prompt": "a cat", "colour": "red"}, "colour: unknown field"),
        ({"prompt": "a cat", "sd_aspect_ratio": "7:3"}, "generator.aspect_ratio"),
        ({"prompt": "a cat", "sd_seed": -1}, "generator.seed"),
        ({"prompt": "a cat", "output_s3_key_prefix": "../elsewhere"}, "output.prefix"),
        ({"prompt": "a cat", "claude_validate_temperature": 3}, "validator.temperature"),
        ({"max_retry_attempts": 2}, "prompt: Field required"),
        ({"prompt": "a cat", "sd_model_id": "amazon.titan-text-express-v1"}, "generator.model_id"),
    ],
)
def test_invalid_input_fails_at_the_first_state_before_any_call_or_write(
    runner: Any, s3: Any, event: dict[str, Any], field: str
) -> None:
    run = runner()
    result = run.run(event, "rejected")

    assert result.status == "FAILED"
    assert result.error == "InvalidInput"
    assert field in result.cause
    assert "Traceback" not in result.cause and "stackTrace" not in result.cause
    assert result.states_entered() == ["Check input", "Explain rejected input", "Input rejected"]
    assert run.standin.calls == []
    assert keys(s3, BUCKET) == []

"""Runs that end on an error: a named error, a cause without a stack trace, every image kept."""

import json
from typing import Any

from imgloop.local.standin.answers import END_OF_LIFE, text_reply
from tests.conftest import load_event
from tests.faults.injector import LAMBDA_NOT_FOUND, Fault, Filtered, Reply, function_is, inject, model_is, tool_is
from tests.statemachine.helpers import exits, failures, keys, manifest, verdicts

BUCKET = "imgloop-local-images"


def test_a_retired_judge_ends_the_run_as_model_unavailable_and_keeps_the_image(runner: Any, s3: Any) -> None:
    run = runner()
    inject(
        run, Fault("bedrock-runtime.Converse", END_OF_LIFE, count=None, when=model_is("us.anthropic.claude-sonnet-4-6"))
    )
    result = run.run(load_event("small_budget.json"), "retired-judge")

    assert result.status == "FAILED" and result.error == "ModelUnavailable"
    assert result.cause.startswith(
        "us.anthropic.claude-sonnet-4-6: ResourceNotFoundException: This model version has reached the end of its life."
    )
    assert "stackTrace" not in result.cause and "Traceback" not in result.cause
    assert f"Manifest: s3://{BUCKET}/generated-images/retired-judge/manifest.json" in result.cause
    assert result.states_entered()[-2:] == ["Report failure", "Run failed"]
    assert failures(result) == ["ModelUnavailable"]  # not retried
    record = manifest(s3, result)
    assert record["status"] == "failed"
    assert record["failure"]["error"] == "ModelUnavailable"
    assert [e["key"] for e in record["entries"]] == ["generated-images/retired-judge/r00-a01.png"]
    assert "generated-images/retired-judge/r00-a01.png" in keys(s3, BUCKET)


def test_a_retired_image_model_fails_at_once_instead_of_burning_the_budget(runner: Any) -> None:
    run = runner()
    inject(run, Fault("bedrock-runtime.InvokeModel", END_OF_LIFE, count=None))
    result = run.run(load_event("small_budget.json"), "retired-generator")

    assert result.error == "ModelUnavailable"
    assert failures(result) == ["ModelUnavailable"]
    assert "Revise prompt" not in result.states_entered()


def test_an_image_that_save_never_filed_is_filed_when_the_run_fails(runner: Any, s3: Any) -> None:
    run = runner()
    inject(run, Fault("lambda.Invoke", LAMBDA_NOT_FOUND, when=function_is("save", action="record")))
    result = run.run(load_event("small_budget.json"), "unsaved")

    assert result.status == "FAILED" and result.error == "Lambda.ResourceNotFoundException"
    assert failures(result) == ["Lambda.ResourceNotFoundException"]
    assert not [k for k in keys(s3, BUCKET) if k.startswith("_staging/")]
    [entry] = manifest(s3, result)["entries"]
    assert entry["key"] == "generated-images/unsaved/r00-a01.png"
    assert entry["prompt"] == "A red bicycle leaning on a blue wall, morning light"
    assert entry["seed"] > 0 and entry["note"].startswith("recorded when the run closed")
    head = s3.head_object(Bucket=BUCKET, Key=entry["key"])
    assert head["Metadata"]["model-id"] == "stability.sd3-5-large-v1:0"


def test_an_http_200_content_filter_is_a_refused_attempt(runner: Any, s3: Any) -> None:
    run = runner()
    inject(run, Fault("bedrock-runtime.InvokeModel", Filtered()))
    result = run.run(load_event("small_budget.json"), "filtered")

    assert result.status == "SUCCEEDED"
    # The refused attempt is answered without a judge; the second image is judged.
    assert [(e["attempt"], e["key"] is None) for e in verdicts(result)] == [(1, True), (2, False)]
    first = manifest(s3, result)["entries"][0]
    assert first["outcome"] == "refused" and first["refusal"] == "model refused: Filter reason: prompt"


def test_a_judge_that_answers_in_prose_never_passes_an_image(runner: Any, s3: Any) -> None:
    run = runner()
    prose = Reply(text_reply("Looks great to me, YES."))
    inject(run, Fault("bedrock-runtime.Converse", prose, count=None, when=tool_is("record_verdict")))
    result = run.run(load_event("small_budget.json"), "prose-judge")

    assert result.error == "RequirementsNotMet"
    verdicts = [e["verdict"] for e in manifest(s3, result)["entries"]]
    assert len(verdicts) == 4
    assert all(v["passed"] is False and v["reason"].startswith("judge answered without a verdict") for v in verdicts)


def test_throttling_storms_wait_with_full_jitter(runner: Any) -> None:
    run = runner(throttle_first=6)
    result = run.run(load_event("small_budget.json"), "storm")

    assert result.status == "SUCCEEDED"
    assert failures(result) == ["ModelThrottled"] * 6
    bounds = [min(120, 5 * 2**n) for n in range(6)]
    assert all(0 <= wait <= bound for wait, bound in zip(run.retry_waits, bounds, strict=True))
    # Without jitter every wait would sit on its bound.
    assert any(wait < 0.95 * bound for wait, bound in zip(run.retry_waits, bounds, strict=True))


def test_candidates_are_judged_in_parallel_and_the_best_passing_one_wins(runner: Any, s3: Any) -> None:
    event = {**load_event("small_budget.json"), "candidates": 3}
    run = runner(reject_first=1)
    result = run.run(event, "three")

    assert result.status == "SUCCEEDED" and result.output["attempt"] == 1
    [made] = exits(result, "Make candidates")
    tally = made["loop"]["tally"]
    judged = verdicts(result)
    # The Map adds what its three candidates cost to what was spent before (nothing), from their answers alone.
    assert tally == {
        "attempt": 1,
        "accepted": True,
        "spent_usd_micro": sum(c["image_usd_micro"] + c["judge_usd_micro"] for c in judged),
    }
    assert sorted(c["candidate"] for c in judged) == [1, 2, 3]
    assert [c["passed"] for c in judged].count(False) == 1
    winner = manifest(s3, result)["winner"]
    passing = {c["key"] for c in judged if c["passed"]}
    assert winner["key"] in passing and result.output["key"] == winner["key"]
    assert sorted(e["key"] for e in manifest(s3, result)["entries"]) == [
        f"generated-images/three/r00-a01-c{n}.png" for n in (1, 2, 3)
    ]
    assert json.dumps(tally).count("base64") == 0


def test_the_largest_budget_stays_far_below_the_history_limit(runner: Any) -> None:
    from common.request import MAX_IMAGES

    event = {**load_event("small_budget.json"), "candidates": 2}  # 2 attempts x 2 prompts x 2 candidates
    result = runner(reject_first=99).run(event, "history-size")

    images = 8
    assert result.error == "RequirementsNotMet"
    per_image = len(result.history) / images
    # Every image costs the same events, so the largest budget allowed scales linearly.
    assert per_image * MAX_IMAGES < 25_000 / 2


def _raising(run: Any, handler: str, error: str) -> None:
    """The function of that handler fails with an error of that name."""
    named = type(error, (Exception,), {})
    real = run.lambdas._handler

    def handler_of(spec: Any) -> Any:
        function = real(spec)
        if not spec.handler.startswith(handler):
            return function

        def failing(event: dict[str, Any], context: Any) -> Any:
            raise named(f"{error} in {handler}")

        return failing

    run.lambdas._handler = handler_of


def test_a_step_functions_error_ends_the_run_under_this_projects_name_its_cause_kept(runner: Any) -> None:
    # A function's error may not carry a States.* name: the interpreter fails the candidate as States.Runtime,
    # which the run catches and records. A Fail state given that name would end as States.Runtime and lose
    # the cause, so the run ends under this project's name for it, the original leading the cause.
    run = runner()
    _raising(run, "generate", "States.Timeout")

    result = run.run(load_event("small_budget.json"), "states-error")

    assert result.status == "FAILED"
    assert result.error == "WorkflowRuntime"
    assert result.cause is not None and result.cause.startswith("States.Runtime: ")
    assert any(e.get("stateEnteredEventDetails", {}).get("name") == "Run failed" for e in result.history)

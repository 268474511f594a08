"""Revise: the reviser gets the requirement, the last prompt and why it failed; its answer is checked."""

from typing import Any

import pytest
from botocore.stub import ANY

from common.manifest import Entry, Manifest, ManifestStore, Verdict
from revise.logic import revise
from tests.unit.fakes import bedrock, prose_answer, rewrite, tool_answer


@pytest.fixture
def task(s3: Any, settings: Any) -> Any:
    s3.create_bucket(Bucket=settings.output_bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    step = rewrite(settings)
    entries = [
        Entry(
            revision=0,
            attempt=1,
            outcome="refused",
            prompt="a bike",
            negative_prompt="",
            model_id="m",
            seed=1,
            refusal="model refused: Filter reason: prompt",
        ),
        Entry(
            revision=0,
            attempt=2,
            outcome="image",
            prompt="a bike",
            negative_prompt="",
            model_id="m",
            seed=2,
            key="k",
            verdict=Verdict(
                passed=False, score=3, reason="the wall is green", suggested_fix="say blue wall", judged_by="j"
            ),
        ),
    ]
    ManifestStore(s3, settings.output_bucket, step.run.manifest_key).create(
        Manifest(execution_id="e", execution_name="run-1", started_at="now", request={}, entries=entries)
    )
    return step


def _sent_text(stub: Any, answer: dict[str, Any]) -> None:
    stub.add_response(
        "converse",
        answer,
        {
            "modelId": ANY,
            "system": ANY,
            "messages": ANY,
            "inferenceConfig": ANY,
            "toolConfig": ANY,
            "requestMetadata": {"imgloop:role": "revise", "imgloop:target": ANY},
        },
    )


def test_the_reviser_is_told_every_failure_of_the_prompt(task: Any, s3: Any) -> None:
    client, stub = bedrock()
    sent: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.bedrock-runtime.Converse", lambda params, **_: sent.append(params)
    )
    _sent_text(
        stub, tool_answer("propose_prompt", {"prompt": "A red bicycle against a blue wall", "negative_prompt": "green"})
    )
    with stub:
        proposal = revise(task, client, s3)

    assert (proposal.prompt, proposal.negative_prompt) == ("A red bicycle against a blue wall", "green")
    text = sent[0]["messages"][0]["content"][0]["text"]
    assert "<requirement>\nA red bicycle, a blue wall\n</requirement>" in text
    assert "<last_prompt>\na bike\n</last_prompt>" in text
    assert "attempt 1: the model made no image: model refused: Filter reason: prompt" in text
    assert "attempt 2: score 3/10: the wall is green (suggested fix: say blue wall)" in text
    system = sent[0]["system"][0]["text"]
    assert "Stable Diffusion 3.5" in system and "Write in English" in system


def test_without_a_tool_answer_the_last_prompt_is_kept(task: Any, s3: Any) -> None:
    client, stub = bedrock()
    _sent_text(stub, prose_answer("Try: a red bike"))
    with stub:
        proposal = revise(task, client, s3)
    assert proposal.prompt == "a bike"
    assert "last prompt is kept" in proposal.note


def test_an_overlong_prompt_is_cut_at_a_clause_boundary(task: Any, s3: Any) -> None:
    client, stub = bedrock()
    _sent_text(stub, tool_answer("propose_prompt", {"prompt": "a red bicycle, " * 400, "negative_prompt": ""}))
    with stub:
        proposal = revise(task, client, s3)
    assert len(proposal.prompt) <= 4000 and proposal.prompt.endswith("a red bicycle,")
    assert "prompt shortened" in proposal.note

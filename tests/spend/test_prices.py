"""The price table and the arithmetic on it: every allowed model priced, each figure sourced, the worst
case from the request's own budget, and the run's cost from its manifest."""

import json
from pathlib import Path

import pytest

from common.errors import InvalidInput
from common.generators.amazon import NovaCanvasGenerator
from common.generators.sdxl import SdxlGenerator
from common.manifest import Entry, EntryCost, Manifest, Verdict, Winner
from common.names import CLAUDE_SONNET, SD35_LARGE
from common.prices import prices, to_micro
from common.request import RunRequest
from common.spend import UNCAPPED, budget, estimate, image_usd, run_cost

ROOT = Path(__file__).resolve().parents[2]


def _request(**fields: object) -> RunRequest:
    return RunRequest.model_validate(
        {
            "prompt": "a red fox in the snow",
            "output": {"bucket": "imgloop-test"},
            "generator": {"model_id": SD35_LARGE},
            "validator": {"model_id": CLAUDE_SONNET},
            "reviser": {"model_id": CLAUDE_SONNET},
            **fields,
        }
    )


def test_every_model_the_stack_allows_has_a_price_with_its_source_and_date() -> None:
    allowed = json.loads((ROOT / "cdk.json").read_text())["context"]["imgloop:allowed_models"]
    table = prices()
    for model in allowed:
        priced = table.images.get(model) or table.tokens.get(model)
        assert priced is not None, model
        assert priced.source.startswith("https://") and priced.read == table.read


def test_the_us_profile_of_claude_sonnet_is_priced_at_its_geographic_rate() -> None:
    sonnet = prices().token(CLAUDE_SONNET)
    assert (sonnet.input_per_million, sonnet.output_per_million) == (3.3, 16.5)
    assert sonnet.micro(1_000_000, 0) == 3_300_000


def test_an_image_price_follows_its_size_quality_and_steps() -> None:
    table = prices()
    canvas = "amazon.nova-canvas-v1:0"
    small = NovaCanvasGenerator(model_id=canvas, seed=0, width=1024, height=1024, quality="premium")
    large = NovaCanvasGenerator(model_id=canvas, seed=0, width=2048, height=1024)
    assert (image_usd(small, table), image_usd(large, table)) == (0.06, 0.06)
    sdxl = "stability.stable-diffusion-xl-v1"
    assert image_usd(SdxlGenerator(model_id=sdxl, seed=0, steps=30), table) == 0.04
    assert image_usd(SdxlGenerator(model_id=sdxl, seed=0, steps=80), table) == 0.08


def test_image_tokens_follow_each_family_rule() -> None:
    table = prices()
    assert table.image_input_tokens(CLAUDE_SONNET, (1024, 1024)) == 1399
    assert table.image_input_tokens(CLAUDE_SONNET, (4096, 4096)) == 1600
    assert table.image_input_tokens("us.amazon.nova-pro-v1:0", (800, 400)) == 800
    assert table.image_input_tokens("us.amazon.nova-pro-v1:0", None) == 2600


def test_the_worst_case_uses_the_whole_budget_and_the_expected_cost_less() -> None:
    request = _request(max_retry_attempts=3, max_prompt_revisions=2, candidates=2)
    found = estimate(request, pass_rate=0.5)
    calls = found.calls
    assert found.images == request.max_images() == 18
    models = 18 * (calls.image + calls.judge_worst) + 2 * calls.reviser_worst
    assert found.worst_case_usd == pytest.approx(models + found.worst_by_model["orchestration"])
    assert found.worst_by_model[SD35_LARGE] == pytest.approx(18 * 0.08)
    assert 0 < found.expected_usd < found.worst_case_usd
    assert estimate(request, pass_rate=1.0).expected_images == 2  # the first attempt's candidates


def test_the_budget_carries_an_attempt_and_a_revision_and_refuses_a_cap_below_one_attempt() -> None:
    plan = budget(_request(candidates=2, max_cost_usd=1.0))
    calls = estimate(_request(candidates=2)).calls
    assert plan.cap_usd_micro == 1_000_000
    assert plan.attempt_usd_micro == to_micro(2 * (calls.image + calls.judge_worst))
    assert plan.revision_usd_micro == plan.attempt_usd_micro + to_micro(calls.reviser_worst)
    assert budget(_request()).cap_usd_micro == UNCAPPED
    with pytest.raises(InvalidInput, match=r"max_cost_usd: .* does not cover the first attempt"):
        budget(_request(max_cost_usd=0.05))


def test_a_runs_cost_counts_each_prompt_rewrite_once() -> None:
    def entry(revision: int, attempt: int, prompt_usd: float) -> Entry:
        verdict = Verdict(passed=attempt == 2, score=5, reason="r", judged_by=CLAUDE_SONNET)
        cost = EntryCost(image_usd=0.08, judge_usd=0.01, prompt_usd=prompt_usd)
        return Entry(
            revision=revision,
            attempt=attempt,
            outcome="image",
            prompt="p",
            negative_prompt="",
            model_id=SD35_LARGE,
            seed=1,
            key=f"k{revision}{attempt}",
            verdict=verdict,
            cost=cost,
        )

    manifest = Manifest(
        execution_id="e",
        execution_name="n",
        started_at="t",
        request={"reviser": {"model_id": "reviser"}},
        entries=[entry(0, 1, 0), entry(1, 1, 0.02), entry(1, 2, 0.02)],
        winner=Winner(revision=1, attempt=2, key="k12"),
    )
    cost = run_cost(manifest)
    assert cost.by_model == {SD35_LARGE: 0.24, CLAUDE_SONNET: 0.03, "reviser": 0.02}
    assert cost.total_usd == cost.per_accepted_image_usd == 0.29

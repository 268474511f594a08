"""The bench harness on a tiny configuration (two prompts, no simulated latency): the figures it reports and
what must hold between them. No time is asserted; `make bench` measures."""

import json
import math
from pathlib import Path
from typing import Any

import pytest

from bench.harness import LOWER_BOUND, PROJECT_1, PROJECT_3, REFERENCE
from bench.run import GOALS, Results, dumps, figures, invariants, run_all
from bench.settings import tiny
from bench.tokens import judge_image_tokens
from bench.verdicts import Position, Verdicts

CONTENDERS = (REFERENCE, PROJECT_1, PROJECT_3, LOWER_BOUND)


@pytest.fixture(scope="module")
def results(assembly: Path) -> Results:
    return run_all(tiny(), assembly, say=lambda _: None)


@pytest.fixture(scope="module")
def values(results: Results) -> dict[str, Any]:
    return figures(results)


def test_the_json_line_has_every_figure_the_issue_names(values: dict[str, Any]) -> None:
    line = json.loads(dumps(values))
    batch = {"batch_items_per_min", "batch_overhead_per_item_s", "batch_items", "batch_default_concurrency_utilisation"}
    assert set(GOALS) | {"ttv_median_s", "cost_per_accepted_usd"} | batch <= set(line)
    assert set(line["ttv_median_s"]) == set(CONTENDERS)
    assert set(line["cost_per_accepted_usd"]) == set(CONTENDERS)
    assert line["batch_items"] == tiny().batch_items and line["settings"]["batch_concurrency"] == 3
    assert set(line["goals_not_met"]) <= set(GOALS)
    assert line["batch_quota_items"] == tiny().quota_items and line["batch_items_failed_throttled"] == 0
    assert line["cold_import_vs_boto3"] > 0 and line["batch_quota_utilisation"] > 0


def test_the_batches_against_a_quota_make_one_image_an_item_and_the_plan_sets_the_first(results: Results) -> None:
    assert invariants(results)["quota_batch_every_item_one_image"]
    assert results.quota is not None
    assert results.quota.planned.plan["concurrency"] == results.quota.planned.plan["planned"]
    assert results.quota.default.plan["concurrency"] == 4 and results.quota.default.plan["requested"] == 4


def test_every_contender_runs_every_prompt_and_gets_an_image(results: Results) -> None:
    for contender in (REFERENCE, PROJECT_1, PROJECT_3):
        runs = results.of(contender)
        assert sorted(r.prompt_index for r in runs) == [0, 1]
        # The seeded verdicts pass within the 15-image budget for both prompts of seed 1.
        assert all(r.accepted for r in runs)


def test_the_lower_bound_is_below_every_contender(results: Results, values: dict[str, Any]) -> None:
    checks = invariants(results)
    assert checks["lower_bound_below_each_run"]
    ttv = values["ttv_median_s"]
    assert all(ttv[LOWER_BOUND] <= ttv[c] for c in (REFERENCE, PROJECT_1, PROJECT_3))


def test_the_reference_and_one_candidate_judge_the_same_images(results: Results) -> None:
    checks = invariants(results)
    assert checks["same_schedule_reference_and_1_candidate"]
    assert checks["images_judged"] and checks["one_image_call_per_image"]
    for reference, project in zip(results.of(REFERENCE), results.of(PROJECT_1), strict=True):
        assert reference.images == project.images
        assert [v for _, v in reference.usage.verdicts] == [v for _, v in project.usage.verdicts]


def test_three_candidates_stop_at_the_attempt_that_holds_the_first_pass(results: Results) -> None:
    for one, three in zip(results.of(PROJECT_1), results.of(PROJECT_3), strict=True):
        assert three.images == math.ceil(one.images / 3) * 3


def test_counts_agree(results: Results, values: dict[str, Any]) -> None:
    one = results.of(PROJECT_1)
    images = sum(r.images for r in one)
    # Per image at least Generate, Save, Validate (3 Lambda requests) and their states.
    assert all(r.usage.lambda_requests >= 3 * r.images + 2 for r in one)
    assert values["transitions_per_image"] == pytest.approx(sum(r.transitions for r in one) / images, abs=1e-3)
    assert values["history_events_per_image"] > values["transitions_per_image"]
    # The reference is one function invocation per run and one S3 write per image.
    assert all(r.usage.lambda_requests == 1 and r.usage.s3_writes == r.images for r in results.of(REFERENCE))
    costs = values["cost_per_accepted_usd"]
    # The lower bound's cost is the 1-candidate runs' model work alone.
    assert costs[LOWER_BOUND] <= costs[PROJECT_1]
    assert 0 <= values["orchestration_cost_share"] < 1


def test_the_storm_loses_nothing_and_the_other_figures_are_there(results: Results, values: dict[str, Any]) -> None:
    assert results.storm is not None and results.storm.throttled_calls == tiny().storm_throttle_first
    assert values["lost_under_throttling"] == 0
    assert results.overhead is not None and results.overhead.images == 4  # 2 attempts x 2 prompts, all rejected
    assert values["local_overhead_per_image_s"] > 0
    assert values["cold_import_ms_max"] > 0


def test_the_batch_runs_each_item_once_and_its_figures_follow_from_its_wall_time(
    results: Results, values: dict[str, Any]
) -> None:
    batch = results.batch
    assert batch is not None and (batch.items, batch.concurrency) == (6, 3)
    assert batch.succeeded == batch.usage.images == batch.usage.judge_calls == 6
    assert invariants(results)["batch_one_image_per_item"]
    # Reading and closing the batch, and per item: Check input, Generate, Save, Validate, Report success, Record.
    assert batch.usage.lambda_requests == 2 + 6 * 6
    assert values["batch_items_per_min"] == pytest.approx(6 / batch.wall_s * 60, abs=0.05)
    assert values["batch_overhead_per_item_s"] == pytest.approx(batch.wall_s / 6, abs=1e-4)


def test_verdicts_are_the_same_for_the_same_image() -> None:
    verdicts = Verdicts(seed=7, pass_rate=0.3, max_attempts=5)
    assert Position(1, 2).image_number(5) == 7
    assert Position(0, 2, candidate=3, candidates=3).image_number(5) == 6
    draws = [verdicts.passes(p, n) for p in range(20) for n in range(1, 16)]
    assert draws == [verdicts.passes(p, n) for p in range(20) for n in range(1, 16)]
    assert 0.15 < sum(draws) / len(draws) < 0.45


def test_judge_image_tokens_follow_claudes_rule() -> None:
    assert judge_image_tokens(1024, 1024) == math.ceil(1024 * 1024 / 750)
    assert judge_image_tokens(2048, 2048) <= 1600  # scaled down by the model first
    assert judge_image_tokens(4096, 1024) <= math.ceil(1568 * 392 / 750)


def test_the_report_renders_every_goal(results: Results, values: dict[str, Any]) -> None:
    from bench.report import console_table, document

    page = document(results, values, invariants(results))
    table = console_table(results, values)
    for key in [*GOALS, "batch_items_per_min"]:
        assert f"`{key}`" in page and key in table
    assert "## Batch throughput" in page and "| 6 | 6 |" in page
    assert page.count("**not met**") == len(values["goals_not_met"])

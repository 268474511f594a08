"""A batch against the stand-in's quotas: the plan reads them as Service Quotas lists them and sets the Map's
concurrency; a concurrency above them is throttled, yet no item fails to throttling; an item whose retries
run out is recorded as throttled and runs again when the batch is re-run."""

import json
from typing import Any

from common.names import CLAUDE_SONNET, SD35_LARGE
from imgloop.local.runner import LocalRunner
from imgloop.local.standin.quota import Quotas
from imgloop.local.standin.service import Scenario
from imgloop.local.standin.triggers import Triggers
from tests.batch.helpers import manifest_lines, run_batch

ONE_IMAGE = {"max_retry_attempts": 1, "max_prompt_revisions": 0}
# A minute lasts 0.6 s; retry waits are slept at the same scale (5 s to 300 s become 0.05 s to 3 s).
TIGHT = Quotas({SD35_LARGE: 6, CLAUDE_SONNET: 12}, time_scale=0.01)


def _items(count: int) -> list[str]:
    return [json.dumps(f"A fox number {n}, a birch forest") for n in range(count)]


def test_a_batch_above_a_tight_quota_is_throttled_yet_no_item_fails_and_the_plan_warns(runner: Any) -> None:
    run: LocalRunner = runner(quotas=TIGHT)
    request = {"batch": "tight", "defaults": ONE_IMAGE, "concurrency": 10}

    ran = run_batch(run, "tight-1", request, _items(12))

    output = ran.execution.output
    assert output is not None and ran.execution.status == "SUCCEEDED"
    assert (output["succeeded"], output["failed"], output["errors"]) == (12, 0, {})
    assert run.standin.quota.throttled > 0 and ran.map_run["maxConcurrency"] == 10
    plan = output["plan"]
    # The stand-in's quotas, as Service Quotas lists them: 6 image requests a minute bind, at 12 s an item.
    assert plan["binding"]["name"] == "On-demand InvokeModel requests per minute for SD3.5 Large"
    assert (plan["binding"]["source"], plan["planned"], plan["concurrency"]) == ("service-quotas", 1, 10)
    assert "expect throttling" in plan["warning"]


def test_without_a_concurrency_the_batch_runs_at_the_plans(runner: Any) -> None:
    run: LocalRunner = runner(quotas=Quotas({SD35_LARGE: 30, CLAUDE_SONNET: 600}, time_scale=0.01))

    ran = run_batch(run, "planned-1", {"batch": "planned", "defaults": ONE_IMAGE}, _items(8))

    assert ran.execution.output is not None
    # 0.95 x 30 a minute / (one image call in 12 s: 5 a minute) = 5.7.
    assert ran.map_run["maxConcurrency"] == ran.execution.output["plan"]["concurrency"] == 5
    assert ran.execution.output["plan"]["warning"] is None


def test_an_item_throttled_past_its_retries_is_recorded_as_throttled_and_runs_again_on_a_rerun(runner: Any) -> None:
    # Every call about a prompt is throttled 13 times: one try and the batch's 12 retries.
    run: LocalRunner = runner(triggers=Triggers(throttle_each=13))
    request = {"batch": "storm", "defaults": ONE_IMAGE}

    first = run_batch(run, "storm-1", request, _items(1))
    run.standin.scenario = Scenario()  # the storm is over
    second = run_batch(run, "storm-2", request, _items(1))

    [failed] = manifest_lines("storm", "storm-1")
    assert (failed.status, failed.error) == ("FAILED", "ModelThrottled")
    assert first.execution.output is not None and first.execution.output["errors"] == {"ModelThrottled": 1}
    [succeeded] = manifest_lines("storm", "storm-2")
    assert (succeeded.status, succeeded.skipped, succeeded.runs) == (
        "SUCCEEDED",
        False,
        ["storm-00001", "storm-00001-2"],
    )
    assert second.execution.output is not None and second.execution.output["failed"] == 0

"""The cap holds: a run stops before an attempt that could pass it, and a batch over it never starts."""

from typing import Any

import pytest

from common.errors import InvalidInput
from common.settings import Settings
from save.batch import open_batch
from tests.conftest import load_event
from tests.statemachine.helpers import attempts, exits, manifest
from tests.unit.test_save_batch import FIRST, _keys, bucket, quotas  # noqa: F401 (the fixture)

CAP = 0.3


def test_a_judge_that_rejects_everything_stops_at_the_cap_with_the_best_image_kept(runner: Any, s3: Any) -> None:
    event = {**load_event("small_budget.json"), "max_cost_usd": CAP}
    result = runner(reject_first=99).run(event, "capped")

    assert result.status == "FAILED"
    assert result.error == "RequirementsNotMet"
    assert result.cause.startswith(f"Stopped at the spending cap (max_cost_usd ${CAP:.4f}): $")
    # Both attempts at the prompt were made: what the cap stopped was a revised prompt and its attempt.
    assert "spent, and a revised prompt and its attempt could cost up to $" in result.cause
    # The budget had a revised prompt left; its worst case would have passed the cap.
    assert attempts(result) == [(0, 1), (0, 2)]
    assert result.states_entered()[-2:] == ["Report spending cap reached", "Spending cap reached"]
    record = manifest(s3, result)
    assert record["status"] == "requirements_not_met"
    spent = sum(e["cost"]["image_usd"] + e["cost"]["judge_usd"] + e["cost"]["prompt_usd"] for e in record["entries"])
    assert 0 < spent <= CAP
    assert all(e["key"] for e in record["entries"])


def test_without_a_cap_the_same_run_uses_its_whole_budget(runner: Any, s3: Any) -> None:
    result = runner(reject_first=99).run(load_event("small_budget.json"), "uncapped")

    assert result.error == "RequirementsNotMet"
    assert attempts(result) == [(0, 1), (0, 2), (1, 1), (1, 2)]
    # The spend the state machine kept, attempt by attempt and across the revision, is what the manifest
    # says each call cost (each entry carries the cost of the rewrite that wrote its prompt).
    spent = [made["loop"]["tally"]["spent_usd_micro"] for made in exits(result, "Make candidates")]
    entries = manifest(s3, result)["entries"]
    calls = [e["cost"]["image_usd"] + e["cost"]["judge_usd"] for e in entries]
    rewrite = entries[2]["cost"]["prompt_usd"]
    assert rewrite > 0 and entries[0]["cost"]["prompt_usd"] == 0
    running = [sum(calls[: n + 1]) + (rewrite if n >= 2 else 0) for n in range(4)]
    assert spent == [round(usd * 1_000_000) for usd in running]


def test_a_batch_whose_worst_case_is_over_its_cap_is_refused_naming_both_figures(
    s3: Any,
    settings: Settings,
    bucket: str,  # noqa: F811
) -> None:
    request = {"batch": "capped", "items": ["a fox", "an owl"], "max_cost_usd": 0.5}

    refused = r"^max_cost_usd: the batch's worst case is \$\d+\.\d{4}, over its cap of \$0\.5000"
    with pytest.raises(InvalidInput, match=refused):
        open_batch(request, FIRST, settings, s3, quotas)
    assert _keys(s3, bucket) == []
    assert open_batch({**request, "max_cost_usd": 100}, FIRST, settings, s3, quotas).batch.items == 2

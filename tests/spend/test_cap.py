"""The cap holds: a run stops before an attempt that could pass it, and a batch over it never starts."""

from typing import Any

import pytest

from common.errors import InvalidInput
from common.settings import Settings
from save.batch import open_batch
from tests.conftest import load_event
from tests.statemachine.helpers import attempts, manifest
from tests.unit.test_save_batch import FIRST, _keys, bucket, quotas  # noqa: F401 (the fixture)

CAP = 0.3


def test_a_judge_that_rejects_everything_stops_at_the_cap_with_the_best_image_kept(runner: Any, s3: Any) -> None:
    event = {**load_event("small_budget.json"), "max_cost_usd": CAP}
    result = runner(reject_first=99).run(event, "capped")

    assert result.status == "FAILED"
    assert result.error == "RequirementsNotMet"
    assert result.cause.startswith(f"Stopped at the spending cap (max_cost_usd ${CAP:.4f}): $")
    # The budget had a revised prompt left; its worst case would have passed the cap.
    assert attempts(result) == [(0, 1), (0, 2)]
    assert result.states_entered()[-2:] == ["Report spending cap reached", "Spending cap reached"]
    record = manifest(s3, result)
    assert record["status"] == "requirements_not_met"
    spent = sum(e["cost"]["image_usd"] + e["cost"]["judge_usd"] + e["cost"]["prompt_usd"] for e in record["entries"])
    assert 0 < spent <= CAP
    assert all(e["key"] for e in record["entries"])


def test_without_a_cap_the_same_run_uses_its_whole_budget(runner: Any) -> None:
    result = runner(reject_first=99).run(load_event("small_budget.json"), "uncapped")

    assert result.error == "RequirementsNotMet"
    assert attempts(result) == [(0, 1), (0, 2), (1, 1), (1, 2)]


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

"""batch_quota_utilisation: a batch of one-image items against a simulated quota, run at the concurrency its
plan sets, and the same items at the fixed default concurrency for comparison.

The stand-in enforces a requests-per-minute quota on the image model and lists it as Service Quotas would, so
the batch's first step plans from it as a deployed batch plans from the account's quotas. Time is scaled
(`quota_scale`): the models' latencies and the quota's minute alike, as are the state machine's Retry waits
(imgloop.local.runner), so a throttled call waits out the same share of the quota's minute as on AWS.

The orchestration between model calls is not scaled: here it is this machine running moto's interpreter and
every handler, about 0.4 s of wall time an item, which on the scaled clock (x0.5) is close to the 1 s an
attempt the plan allows for Step Functions and Lambda on AWS; the plan is told the bench's model latencies,
nothing else. The report shows how long an item took here, beside the plan's figure.
"""

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.batch import Ran, run_items
from bench.harness import Bench
from bench.markdown import table
from bench.settings import Latency, Settings
from common.names import DEFAULT_BATCH_CONCURRENCY, SD35_LARGE
from imgloop.local.standin.quota import Quotas
from imgloop.local.standin.service import Scenario

GOAL = 0.85  # batch_quota_utilisation: images a minute made over the quota's


@dataclass
class QuotaRun:
    items: int
    ran: Ran
    scale: float
    quota: float  # the image model's requests a minute

    @property
    def images(self) -> int:
        return self.ran.usage.images

    @property
    def minutes(self) -> float:
        """The batch's duration on Bedrock's clock (the wall time unscaled)."""
        return self.ran.wall_s / self.scale / 60

    @property
    def images_per_minute(self) -> float:
        return self.images / self.minutes if self.minutes else 0.0

    @property
    def utilisation(self) -> float:
        return self.images_per_minute / self.quota

    @property
    def item_s(self) -> float:
        """How long an item took on Bedrock's clock, from the batch's pace: the concurrency over items a second."""
        concurrency = float(self.plan.get("concurrency") or 0)
        return concurrency * self.minutes * 60 / self.items if self.items else 0.0

    @property
    def plan(self) -> dict[str, Any]:
        return dict(self.ran.output.get("plan") or {})

    @property
    def failed_throttled(self) -> int:
        return int(self.ran.output.get("errors", {}).get("ModelThrottled", 0))


@dataclass
class QuotaBatches:
    planned: QuotaRun
    default: QuotaRun


def measure(settings: Settings, assembly: Path, say: Any) -> QuotaBatches:
    scale, quota = settings.quota_scale, settings.quota_images_per_minute
    latency = Latency(scale=scale)
    plan = {"image_s": latency.image_s, "judge_s": latency.judge_s, "reviser_s": latency.reviser_s}

    def run(name: str, items: int, request: dict[str, Any]) -> QuotaRun:
        scenario = Scenario(quotas=Quotas({SD35_LARGE: quota}, time_scale=scale))
        bench = Bench(replace(settings, latency=latency), assembly, scenario, seeded=False)
        return QuotaRun(items, run_items(bench, name, items, {"plan": plan, **request}), scale, quota)

    say(f"batch against a quota: {settings.quota_items} one-image items, {quota:g} images a minute, time x{scale:g}")
    planned = run("quota", settings.quota_items, {})
    say(f"the same at the default concurrency ({DEFAULT_BATCH_CONCURRENCY}): {settings.quota_default_items} items")
    default = run("quota-default", settings.quota_default_items, {"concurrency": DEFAULT_BATCH_CONCURRENCY})
    return QuotaBatches(planned, default)


def figures(found: QuotaBatches | None) -> dict[str, Any]:
    if found is None:
        return {key: None for key in _KEYS}
    planned, default = found.planned, found.default
    return {
        "batch_quota_items": planned.items,
        "batch_quota_utilisation": round(planned.utilisation, 3),
        "batch_items_failed_throttled": planned.failed_throttled,
        "batch_quota_concurrency": planned.plan.get("concurrency"),
        "batch_quota_throttled_calls": planned.ran.usage.throttled,
        "batch_default_concurrency_utilisation": round(default.utilisation, 3),
    }


_KEYS = (
    "batch_quota_items",
    "batch_quota_utilisation",
    "batch_items_failed_throttled",
    "batch_quota_concurrency",
    "batch_quota_throttled_calls",
    "batch_default_concurrency_utilisation",
)


def holds(found: QuotaBatches | None) -> bool:
    """Every item of both batches ended with its one image, none failed to throttling."""
    if found is None:
        return True
    runs = (found.planned, found.default)
    return all(r.images == r.items == int(r.ran.output.get("succeeded", 0)) and not r.failed_throttled for r in runs)


def section(found: QuotaBatches | None) -> list[str]:
    if found is None:
        return []
    planned, default = found.planned, found.default
    plan = planned.plan
    binding = plan.get("binding") or {}
    rows = [
        [
            label,
            str(run.items),
            str(run.plan.get("concurrency")),
            f"{run.minutes:.1f}",
            f"{run.images_per_minute:.1f}",
            f"{run.utilisation:.3f}",
            str(run.ran.usage.throttled),
            str(run.failed_throttled),
        ]
        for label, run in (("planned", planned), (f"default ({DEFAULT_BATCH_CONCURRENCY})", default))
    ]
    return [
        "",
        "## A batch at a quota's scale",
        "",
        f"A batch of {planned.items} one-image items against a quota of {planned.quota:g} image requests a minute,",
        "enforced by the Bedrock stand-in (a sliding minute per model, answered with ThrottlingException as",
        "Bedrock answers) and listed by its Service Quotas stand-in, from which the batch's first step plans.",
        f"Time is scaled by {planned.scale:g}: the models' latencies, the quota's minute and the Retry waits; the",
        "figures below are on Bedrock's clock (the wall time divided by the scale).",
        "",
        "The plan (docs/batches.md, *How many items at once*): each item makes one image call and one judge",
        f"call in {plan.get('item_s')} s (8 s image, 3 s judge, 1 s of orchestration), so one running item calls the",
        f"image model {60 / float(plan.get('item_s') or 1):.2f} times a minute, and 95% of the quota allows",
        f"{plan.get('planned')} items at once. Binding: {binding.get('name')}. The orchestration here (moto's",
        "interpreter and the handlers on this machine) is not scaled; an item took",
        f"{planned.item_s:.1f} s on the scaled clock, the batch's start and end included (the plan allows",
        f"{plan.get('item_s')} s). Then the first {default.items} of the same items ran at the fixed concurrency the",
        f"stack used before ({DEFAULT_BATCH_CONCURRENCY}).",
        "",
        *table(
            [
                "run",
                "items",
                "concurrency",
                "minutes",
                "images a minute",
                "utilisation",
                "throttled calls",
                "items failed throttled",
            ],
            rows,
        ),
        "",
        f"- `batch_quota_utilisation` (goal >= {GOAL:g}): images a minute over the quota's, for the whole batch",
        "  (reading the batch and writing its manifest included). `batch_default_concurrency_utilisation`: the same",
        "  at the fixed default. `batch_items_failed_throttled` (goal 0): items that ended as ModelThrottled.",
        "- Throttled calls are retried by the state machine (backoff with full jitter, capped at 5 minutes, 12",
        "  retries for a batch's items); an item throttled past them would end as ModelThrottled and run again",
        "  when the batch is re-run under its name.",
    ]

"""One bench run: every measurement, in one process, and the figures the issue names."""

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bench import batch as batch_bench
from bench import quota_batch
from bench.cold import ImportTime, boto3_import, vs_boto3
from bench.cold import measure as measure_imports
from bench.costs import Cost, cost
from bench.harness import LOWER_BOUND, PROJECT_1, PROJECT_3, REFERENCE, Bench, Run, median
from bench.settings import Latency, Settings
from bench.tokens import judge_image_tokens
from bench.usage import Usage
from bench.verdicts import Verdicts
from imgloop import PROJECT_ROOT
from imgloop.local.assembly import LocalNames, load_workflow
from imgloop.local.standin.service import Scenario
from imgloop.runs.executions import history

CONTENDERS = (REFERENCE, PROJECT_1, PROJECT_3)


@dataclass
class Storm:
    throttle_first: int
    status: str
    images_answered: int
    images_kept: int  # in the run's folder and in its manifest
    staging_left: int
    throttled_calls: int
    retry_waits: int

    @property
    def lost(self) -> int:
        return max(0, self.images_answered - self.images_kept)


@dataclass
class Overhead:
    project_s_per_image: list[float]
    reference_s_per_image: list[float]
    images: int
    standin_s_per_image: float  # time inside the stand-in's calls (it draws and encodes a PNG per image)


@dataclass
class Results:
    settings: Settings
    started: float
    runs: list[Run] = field(default_factory=list)
    overhead: Overhead | None = None
    storm: Storm | None = None
    imports: list[ImportTime] = field(default_factory=list)
    boto3_import: ImportTime | None = None
    batch: batch_bench.Throughput | None = None
    quota: quota_batch.QuotaBatches | None = None
    duration_s: float = 0.0

    def of(self, contender: str) -> list[Run]:
        return [r for r in self.runs if r.contender == contender]


def run_all(settings: Settings, assembly: Path, say: Any = print) -> Results:
    results = Results(settings, time.time())
    started = time.perf_counter()
    workflow = load_workflow(assembly, LocalNames())
    say(f"cold imports: {len(workflow.functions)} handlers x {settings.cold_import_repeats} fresh interpreters")
    results.imports = measure_imports(workflow, PROJECT_ROOT / "lambdas", settings.cold_import_repeats)
    results.boto3_import = boto3_import(workflow, PROJECT_ROOT / "lambdas", settings.cold_import_repeats)
    _contenders(settings, assembly, results, say)
    _storm(settings, assembly, results, say)
    results.batch = batch_bench.measure(settings, assembly, say)
    results.quota = quota_batch.measure(settings, assembly, say)
    results.duration_s = time.perf_counter() - started
    return results


def _contenders(settings: Settings, assembly: Path, results: Results, say: Any) -> None:
    bench = Bench(settings, assembly)
    meter = bench.meter
    with bench.session() as session:
        # Warm up: the first execution imports the handlers and builds the clients (cold_import_ms_max
        # measures that separately). Not timed, no simulated latency.
        meter.latency = replace(settings.latency, scale=0.0)
        session.reference(0)
        session.project(0, 1)
        session.project(0, 3)
        meter.latency = settings.latency
        for repeat in range(settings.repeats):
            say(f"repeat {repeat + 1}/{settings.repeats}: {len(bench.prompts)} prompts x {len(CONTENDERS)} contenders")
            for index in range(len(bench.prompts)):
                # Rotate the order, so no contender always runs first (or right after another one).
                shift = (index + repeat) % len(CONTENDERS)
                for contender in CONTENDERS[shift:] + CONTENDERS[:shift]:
                    if contender == REFERENCE:
                        results.runs.append(session.reference(index, repeat))
                    else:
                        results.runs.append(session.project(index, 1 if contender == PROJECT_1 else 3, repeat))
        # local_overhead_per_image_s: no simulated latency, every image rejected, the S1 example's budget.
        meter.latency = replace(settings.latency, scale=0.0)
        meter.verdicts = Verdicts(settings.seed, 0.0, settings.overhead_attempts)
        say(f"local overhead: {settings.overhead_attempts * (settings.overhead_revisions + 1)}-image executions")
        project, reference, standin, images = [], [], [], 0
        for _ in range(settings.overhead_repeats):
            run = session.project(0, 1, attempts=settings.overhead_attempts, revisions=settings.overhead_revisions)
            images = max(run.images, 1)
            project.append(run.wall_s / images)
            standin.append(run.usage.model_s / images)
            seed = session.reference(0, attempts=settings.overhead_attempts, revisions=settings.overhead_revisions)
            reference.append(seed.wall_s / max(seed.images, 1))
        results.overhead = Overhead(project, reference, images, median(standin))


def _storm(settings: Settings, assembly: Path, results: Results, say: Any) -> None:
    """A 3-candidate run whose first Bedrock calls are throttled: every image the model made must be kept."""
    say(f"throttling storm: the first {settings.storm_throttle_first} Bedrock calls throttled")
    scenario = Scenario(throttle_first=settings.storm_throttle_first, reject_first=3)
    bench = Bench(replace(settings, latency=Latency(scale=0.0)), assembly, scenario, seeded=False)
    with bench.session() as session:
        run = session.project(0, 3, attempts=2, revisions=1)
        assert run.execution_arn is not None
        keys, manifest = session.run_files(history(session.sfn, run.execution_arn))
        staging = session.s3.list_objects_v2(Bucket=bench.runner.names.bucket, Prefix="_staging/").get("KeyCount", 0)
    in_manifest = {e.get("key") for e in manifest.get("entries", []) if e.get("outcome") == "image" and e.get("key")}
    kept = len(in_manifest & set(keys))
    results.storm = Storm(
        throttle_first=settings.storm_throttle_first,
        status="SUCCEEDED" if run.accepted else "FAILED",
        images_answered=run.usage.images,
        images_kept=kept,
        staging_left=int(staging),
        throttled_calls=run.usage.throttled,
        retry_waits=len(bench.runner.retry_waits),
    )


# The figures.
def per_prompt_medians(runs: list[Run], value: Any = lambda r: r.wall_s) -> dict[int, float]:
    by_prompt: dict[int, list[float]] = defaultdict(list)
    for run in runs:
        by_prompt[run.prompt_index].append(value(run))
    return {index: median(values) for index, values in sorted(by_prompt.items())}


def total_usage(runs: list[Run]) -> Usage:
    usage = Usage()
    for run in runs:
        usage.add(run.usage)
    return usage


def contender_cost(runs: list[Run], model_only: bool = False) -> tuple[Cost, int]:
    usage = total_usage(runs)
    transitions = 0 if model_only else sum(r.transitions for r in runs)
    accepted = sum(r.accepted for r in runs)
    return cost(usage, transitions, orchestrated=not model_only).per(accepted), accepted


GOALS: dict[str, tuple[str, float]] = {
    "overhead_vs_seed_loop": ("<=", 1.25),
    "local_overhead_per_image_s": ("<=", 0.15),
    "speedup_3_candidates": (">=", 2.0),
    "vs_latency_limit": ("<=", 1.3),
    "orchestration_cost_share": ("<=", 0.02),
    "transitions_per_image": ("<=", 8),
    "history_events_per_image": ("<=", 30),
    "cold_import_ms_max": ("<=", 300),
    "cold_import_vs_boto3": ("<=", 1.5),
    "lost_under_throttling": ("<=", 0),
    "batch_quota_utilisation": (">=", quota_batch.GOAL),
    "batch_items_failed_throttled": ("<=", 0),
}


def met(key: str, value: float | None) -> bool | None:
    if value is None:
        return None
    op, goal = GOALS[key]
    return value <= goal if op == "<=" else value >= goal


def figures(results: Results) -> dict[str, Any]:
    settings = results.settings
    walls = {c: per_prompt_medians(results.of(c)) for c in CONTENDERS}
    bounds = per_prompt_medians(results.of(PROJECT_1), lambda r: r.lower_bound_s)
    ttv = {c: median(list(walls[c].values())) for c in CONTENDERS}
    ttv[LOWER_BOUND] = median(list(bounds.values()))
    one, three = results.of(PROJECT_1), results.of(PROJECT_3)
    costs = {c: contender_cost(results.of(c))[0] for c in CONTENDERS}
    costs[LOWER_BOUND] = contender_cost(one, model_only=True)[0]
    images_1 = sum(r.images for r in one)
    overhead = results.overhead
    storm = results.storm
    values: dict[str, Any] = {
        "ttv_median_s": {c: round(v, 3) for c, v in ttv.items()},
        "overhead_vs_seed_loop": _ratio(sum(walls[PROJECT_1].values()), sum(walls[REFERENCE].values())),
        "local_overhead_per_image_s": round(median(overhead.project_s_per_image), 4) if overhead else None,
        "speedup_3_candidates": _ratio(ttv[PROJECT_1], ttv[PROJECT_3]),
        "vs_latency_limit": _ratio(sum(walls[PROJECT_1].values()), sum(bounds.values())),
        "cost_per_accepted_usd": {c: round(v.total, 5) for c, v in costs.items()},
        "orchestration_cost_share": round(costs[PROJECT_1].orchestration / costs[PROJECT_1].total, 5)
        if costs[PROJECT_1].total
        else None,
        "transitions_per_image": _ratio(sum(r.transitions for r in one), images_1),
        "history_events_per_image": _ratio(sum(r.history_events for r in one), images_1),
        "cold_import_ms_max": round(max(i.median_ms for i in results.imports), 1) if results.imports else None,
        "cold_import_cpu_ms_max": round(max(i.median_cpu_ms for i in results.imports), 1) if results.imports else None,
        "cold_import_vs_boto3": vs_boto3(results.imports, results.boto3_import),
        **batch_bench.figures(results.batch),
        **quota_batch.figures(results.quota),
        "lost_under_throttling": storm.lost if storm else None,
        "judge_image_tokens": judge_image_tokens(1024, 1024),
        "transitions_per_image_3_candidates": _ratio(sum(r.transitions for r in three), sum(r.images for r in three)),
        "history_events_per_image_3_candidates": _ratio(
            sum(r.history_events for r in three), sum(r.images for r in three)
        ),
        "accepted": {c: f"{sum(r.accepted for r in results.of(c))}/{len(results.of(c))}" for c in CONTENDERS},
        "settings": {
            "prompts": settings.prompts,
            "repeats": settings.repeats,
            "pass_rate": settings.pass_rate,
            "seed": settings.seed,
            "latency_scale": settings.latency.scale,
            "budget": f"{settings.max_retry_attempts}x{settings.max_prompt_revisions + 1}",
            "batch_concurrency": settings.batch_concurrency,
            "quota_images_per_minute": settings.quota_images_per_minute,
            "quota_scale": settings.quota_scale,
        },
    }
    values["goals_not_met"] = [k for k in GOALS if met(k, values[k]) is False]
    return values


def _ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


def invariants(results: Results) -> dict[str, Any]:
    """What must hold whatever the timings (the test checks these)."""
    schedules: dict[str, dict[tuple[int, int], Counter[tuple[int, int, int]]]] = defaultdict(dict)
    for run in results.runs:
        key = (run.prompt_index, run.repeat)
        schedules[run.contender][key] = Counter((p.revision, p.attempt, p.candidate) for p, _ in run.usage.verdicts)
    return {
        "lower_bound_below_each_run": all(r.lower_bound_s <= r.wall_s + 1e-6 for r in results.runs),
        "same_schedule_reference_and_1_candidate": schedules[REFERENCE] == schedules[PROJECT_1],
        "images_judged": all(r.usage.judge_calls == r.images for r in results.runs),
        "one_image_call_per_image": all(r.usage.image_calls == r.images for r in results.runs),
        "batch_one_image_per_item": batch_bench.holds(results.batch),
        "quota_batch_every_item_one_image": quota_batch.holds(results.quota),
    }


def dumps(values: dict[str, Any]) -> str:
    return json.dumps(values, ensure_ascii=False, separators=(", ", ": "))

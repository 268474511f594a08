"""The section on the goals not met and the design changes that would meet them (or, when every goal is
met, the changes the goals drove): the changes already made, then per goal not met what would meet it,
estimated from this run's histories and times."""

import statistics
from dataclasses import dataclass
from typing import Any

from bench.harness import PROJECT_1, PROJECT_3, REFERENCE, Run
from bench.markdown import table
from bench.report.executions import states_per
from bench.report.formatting import fmt
from bench.run import Overhead, Results, met, per_prompt_medians, total_usage

_MADE = (
    "Changes already made for these goals, measured by this bench before and after (same settings): one",
    "Choice after each attempt decides accept / next attempt / revise / give up, instead of three in a row;",
    "and Validate answers a refused candidate itself (no judge call), so the Map needs no 'Was an image",
    "made?' Choice and no 'Candidate refused' Pass (9.46 transitions and 34.62 history events per image",
    "before, 7.69 and 31.08 after); then the candidates Map counts the attempt in its selectors",
    "(States.MathAdd in its ItemSelector, the count carried on in its ResultSelector), so no 'Count the",
    "attempt' Pass runs per attempt; the spending cap's sum travels the same way (each iteration hands on",
    "what was spent before the attempt, the ResultSelector adds the attempt's cost), so no 'Count the",
    "attempt's cost' Pass runs either (it had added one transition and two history events per attempt). For",
    "the cold imports: the functions no longer use Powertools' Tracer, whose import of the X-Ray SDK (it builds",
    "its recorder at import) took about 120 ms of each handler's 308-360 ms; Lambda's active tracing still",
    "records each invocation. Then the models of `common` are built at their first use (pydantic's",
    "`defer_build`, `common.model`), so no handler builds at import the models it never reads, such as Save's",
    "union of actions with the whole request. The figures in this document are after all of these.",
    "",
)


@dataclass(frozen=True)
class _Totals:
    """The one-candidate runs' counts, and per change still open the per-image figures after it (cumulative)."""

    images: int
    attempts: int
    transitions: int
    events: int
    lambda_requests: int
    rows: list[list[str]]
    transitions_after: int  # once every open change is made


def changes_section(
    results: Results, values: dict[str, Any], walls: dict[str, dict[int, float]], bounds: dict[int, float]
) -> list[str]:
    """`walls`: each contender's per-prompt median wall time; `bounds`: the lower bound's, per prompt."""
    not_met = set(values["goals_not_met"])
    if not_met:
        doc = ["", "## Goals not met, and the design changes that would meet them", ""]
    else:
        doc = ["", "## Design changes the goals drove", "", "Every goal is met.", ""]
    doc += _MADE
    totals = _totals(results.of(PROJECT_1))
    if {"transitions_per_image", "history_events_per_image", "overhead_vs_seed_loop", "vs_latency_limit"} & not_met:
        doc += _states(values, totals)
    if {"overhead_vs_seed_loop", "vs_latency_limit"} & not_met:
        doc += _orchestration(values, totals, walls, bounds)
    if "speedup_3_candidates" in not_met:
        doc += _three_candidates(results, values, bounds)
    if {"cold_import_ms_max", "cold_import_vs_boto3"} & not_met:
        doc += _cold_imports(results, values)
    if "local_overhead_per_image_s" in not_met and results.overhead:
        doc += _local_overhead(results.overhead, values)
    if "orchestration_cost_share" in not_met:
        doc += ["**Orchestration cost**: see the cost table; Lambda GB-seconds waiting on Bedrock dominate.", ""]
    if "lost_under_throttling" in not_met:
        doc += ["**Throttling**: images were lost; see the storm table.", ""]
    return doc


def _totals(one: list[Run]) -> _Totals:
    images = sum(r.images for r in one) or 1
    transitions = sum(r.transitions for r in one)
    events = sum(r.history_events for r in one)
    lam = total_usage(one).lambda_requests
    states = states_per(one)
    # Each change still open: (name, transitions saved, events saved, Lambda requests saved).
    changes = [
        (
            "Generate files the image under its canonical key and records the manifest entry itself (no 'Save image' "
            "task; against the rule that each function does one thing, so not planned)",
            states["Save image"],
            5 * states["Save image"],
            states["Save image"],
        ),
    ]
    rows: list[list[str]] = []
    t, e, lr = transitions, events, lam
    for name, dt, de, dl in changes:
        t, e, lr = t - dt, e - de, lr - dl
        rows.append([name, f"{t / images:.2f}", f"{e / images:.2f}", f"{lr / images:.2f}"])
    attempts = sum(len(r.usage.attempts) for r in one) or 1
    return _Totals(images, attempts, transitions, events, lam, rows, t)


def _states(values: dict[str, Any], x: _Totals) -> list[str]:
    doc = [
        f"**States per attempt** (`transitions_per_image` {fmt(values['transitions_per_image'])}, "
        f"`history_events_per_image` {fmt(values['history_events_per_image'])}). One attempt with one candidate "
        f"enters {x.transitions / x.attempts:.1f} states and writes {x.events / x.attempts:.1f} history events here. "
        "Expected effect of each change, from this run's histories (cumulative):",
        "",
    ]
    doc += table(["change", "transitions / image", "history events / image", "Lambda requests / image"], x.rows)
    doc += [
        "",
        _first_meeting(x.rows, 1, "transitions_per_image")
        + " "
        + _first_meeting(x.rows, 2, "history_events_per_image"),
        "",
        f"(now: {x.transitions / x.images:.2f}, {x.events / x.images:.2f} and {x.lambda_requests / x.images:.2f}.) "
        "The Map itself writes 6",
        "events per attempt even with one candidate; a path without a Map for `candidates: 1` would save those,",
        "at the cost of a second copy of the attempt's states in the definition.",
        "",
    ]
    return doc


def _first_meeting(rows: list[list[str]], column: int, key: str) -> str:
    for number, row in enumerate(rows, 1):
        if met(key, float(row[column])):
            return f"`{key}` meets its goal after change {number} ({row[column]})."
    return f"`{key}` stays above its goal even after all {len(rows)} changes."


def _orchestration(
    values: dict[str, Any], x: _Totals, walls: dict[str, dict[int, float]], bounds: dict[int, float]
) -> list[str]:
    overhead_s = sum(walls[PROJECT_1].values()) - sum(bounds.values())
    ref_over = sum(walls[REFERENCE].values()) - sum(bounds.values())
    t, transitions = x.transitions_after, x.transitions
    return [
        f"**Orchestration time** (`overhead_vs_seed_loop` {fmt(values['overhead_vs_seed_loop'])}, "
        f"`vs_latency_limit` {fmt(values['vs_latency_limit'])}). Beyond the model latency, the 1-candidate runs "
        f"spent {overhead_s:.2f} s over {x.attempts} attempts ({overhead_s / x.attempts * 1000:.0f} ms per attempt, "
        f"{overhead_s / max(transitions, 1) * 1000:.0f} ms per state entered); the reference spent "
        f"{ref_over:.2f} s. If that time follows the number of states, the changes above (to "
        f"{t / x.images:.2f} transitions per image from {transitions / x.images:.2f}) would cut it by about "
        f"{1 - t / max(transitions, 1):.0%}"
        + (
            f": `vs_latency_limit` would be about "
            f"{(sum(bounds.values()) + overhead_s * t / max(transitions, 1)) / sum(bounds.values()):.2f}. "
            if sum(bounds.values())
            else ". "
        )
        + "Locally part of that time is moto's interpreter and the in-process Lambdas (each task serialises its",
        "payload twice, parses it with pydantic and reads or writes the manifest in S3), which is why this",
        "ratio is worse at 1:10 than it would be on AWS (see *Contenders*).",
        "",
    ]


def _three_candidates(results: Results, values: dict[str, Any], bounds: dict[int, float]) -> list[str]:
    lb3 = per_prompt_medians(results.of(PROJECT_3), lambda r: r.lower_bound_s)
    intrinsic = statistics.median(bounds.values()) / max(statistics.median(lb3.values()), 1e-9)
    return [
        f"**3 candidates** (`speedup_3_candidates` {fmt(values['speedup_3_candidates'])}). With this verdict",
        f"sequence the model latency alone allows {intrinsic:.2f} (median lower bound, 1 candidate / 3",
        "candidates), so "
        + (
            "the rest is orchestration: three candidates' tasks share this machine's two cores and the GIL; on "
            "AWS each is its own Lambda. Fewer states per image (above) shrink it."
            if intrinsic >= 2
            else "no orchestration change can reach 2.0 at a pass rate of "
            f"{results.settings.pass_rate}: it takes 4 candidates, or starting the next attempt's images while "
            "the judges look at this attempt's (speculative generation), which takes the judge's latency off "
            "the critical path of every failed attempt."
        ),
        "",
    ]


def _cold_imports(results: Results, values: dict[str, Any]) -> list[str]:
    slowest = max(results.imports, key=lambda i: i.median_ms)
    return [
        f"**Cold imports** (`cold_import_ms_max` {fmt(values['cold_import_ms_max'])} ms, `cold_import_vs_boto3` "
        f"{fmt(values['cold_import_vs_boto3'])}, `{slowest.module}`; CPU {slowest.median_cpu_ms:.0f} ms). The heaviest "
        f"packages: {', '.join(f'{n} {ms:.0f} ms' for n, ms in slowest.heaviest)}. Beyond boto3, a handler loads",
        "pydantic itself and runs the class bodies of every module of `common` it imports (`common.tasks` and",
        "`common.results` pull in the request, its families, the batches and the price table): a handler that",
        "imported only its own task and result models, each in a module of its own, would load less of both.",
        "",
    ]


def _local_overhead(o: Overhead, values: dict[str, Any]) -> list[str]:
    return [
        f"**Local overhead** (`local_overhead_per_image_s` {fmt(values['local_overhead_per_image_s'], 4)} s). "
        f"{o.standin_s_per_image:.4f} s per image is the stand-in drawing and encoding a 1024x1024 PNG, which the",
        "goal counts although it stands for the model: a stand-in that reuses one encoded image per size would",
        "take it out. The rest follows the states per image (above).",
        "",
    ]

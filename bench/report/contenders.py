"""The Contenders section: each contender's time to an accepted image, images and cost per run, what the
time ratios mean at this run's latency scale, and the time per prompt."""

import statistics
from typing import Any

from bench.harness import LOWER_BOUND, PROJECT_1
from bench.markdown import table
from bench.report.formatting import fmt
from bench.run import CONTENDERS, Results, contender_cost, per_prompt_medians
from bench.settings import PROMPTS, Settings

ALL = (*CONTENDERS, LOWER_BOUND)


def contenders_section(
    results: Results, values: dict[str, Any], walls: dict[str, dict[int, float]], bounds: dict[int, float]
) -> list[str]:
    """`walls`: each contender's per-prompt median wall time; `bounds`: the lower bound's, per prompt."""
    doc = ["", "## Contenders", ""]
    doc += _summary(results, values, walls, bounds)
    doc += _notes(results.settings, walls, bounds)
    doc += _per_prompt(results, walls, bounds)
    return doc


def _summary(
    results: Results, values: dict[str, Any], walls: dict[str, dict[int, float]], bounds: dict[int, float]
) -> list[str]:
    rows = []
    for contender in ALL:
        runs = results.of(PROJECT_1 if contender == LOWER_BOUND else contender)
        c, accepted = contender_cost(runs, model_only=contender == LOWER_BOUND)
        total = sum(bounds.values()) if contender == LOWER_BOUND else sum(walls[contender].values())
        rows.append(
            [
                contender,
                fmt(values["ttv_median_s"][contender]),
                fmt(total, 2),
                fmt(statistics.mean(r.images for r in runs) if runs else 0.0, 2),
                f"{accepted}/{len(runs)}",
                f"{c.total:.4f}",
                f"{c.orchestration / c.total:.2%}" if c.total else "n/a",
            ]
        )
    return table(
        [
            "contender",
            "ttv_median_s",
            "sum of per-prompt medians, s",
            "images per run",
            "accepted",
            "usd per accepted image",
            "orchestration share",
        ],
        rows,
    )


def _notes(s: Settings, walls: dict[str, dict[int, float]], bounds: dict[int, float]) -> list[str]:
    lat = s.latency
    return [
        "",
        f"- `ttv_median_s`: per prompt, the median over {s.repeats} repeat(s) of the whole execution's wall time",
        "  (start to end, the image accepted or the budget spent); then the median over the prompts. The lower",
        "  bound is the simulated model latency on the critical path of the attempts the 1-candidate runs made:",
        "  per attempt one image call then one judge call (candidates run in parallel), plus one reviser call per",
        "  revision.",
        "- `overhead_vs_seed_loop` and `vs_latency_limit` compare the sums of the per-prompt medians (whole",
        "  executions, the same prompts); `speedup_3_candidates` compares the two `ttv_median_s`.",
        *(
            [
                f"- The models' latency is divided by {1 / lat.scale:g}; the orchestration's is not, so the ratios",
                "  above are harsher than they would be on AWS. At the models' real latency, with the same",
                "  orchestration time, this project (1 candidate) would take "
                f"{fmt(_projected(walls[PROJECT_1], bounds, lat.scale))} x the lower bound.",
            ]
            if lat.scale
            else ["- This run simulated no model latency: the time ratios measure orchestration alone."]
        ),
        "",
        "Per prompt (median wall seconds over the repeats; images made by each contender):",
        "",
    ]


def _projected(walls: dict[int, float], bounds: dict[int, float], scale: float) -> float | None:
    if not scale or not bounds:
        return None
    orchestration = sum(walls.values()) - sum(bounds.values())
    real = sum(bounds.values()) / scale
    return (real + orchestration) / real


def _per_prompt(results: Results, walls: dict[str, dict[int, float]], bounds: dict[int, float]) -> list[str]:
    images_of = {c: per_prompt_medians(results.of(c), lambda r: float(r.images)) for c in CONTENDERS}
    rows = []
    for index in sorted(bounds):
        rows.append(
            [
                str(index),
                PROMPTS[index % len(PROMPTS)],
                fmt(bounds[index], 2),
                *[f"{fmt(walls[c].get(index), 2)} ({images_of[c].get(index, 0):.0f})" for c in CONTENDERS],
            ]
        )
    return table(["#", "prompt", "lower bound", "reference", "1 candidate", "3 candidates"], rows)

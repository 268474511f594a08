"""The sections read from the executions themselves: state transitions and history events per image, the
throttling storm, and the local runner's own time per image."""

import statistics
from collections import Counter
from typing import Any

from bench.harness import Run
from bench.markdown import table
from bench.report.formatting import fmt
from bench.run import Results


def states_per(runs: list[Run]) -> Counter[str]:
    total: Counter[str] = Counter()
    for run in runs:
        total.update(run.states)
    return total


def _events_per(runs: list[Run]) -> Counter[str]:
    total: Counter[str] = Counter()
    for run in runs:
        total.update(run.events_by_type)
    return total


def history_section(one: list[Run], values: dict[str, Any]) -> list[str]:
    """From the one-candidate runs `one`."""
    doc = ["", "## State transitions and history events", ""]
    images = sum(r.images for r in one) or 1
    executions = len(one) or 1
    doc.append(
        f"From the histories of the {len(one)} one-candidate executions ({images} images, "
        f"{fmt(images / executions, 2)} per execution): `transitions_per_image` "
        f"{fmt(values['transitions_per_image'])}, `history_events_per_image` "
        f"{fmt(values['history_events_per_image'])}; with 3 candidates "
        f"{fmt(values['transitions_per_image_3_candidates'])} and "
        f"{fmt(values['history_events_per_image_3_candidates'])}."
        " A transition is counted per state entered plus one per retry, as Step Functions bills them."
    )
    doc += ["", "States entered per image (one candidate):", ""]
    states = states_per(one)
    doc += table(["state", "entered", "per image"], [[n, str(c), f"{c / images:.2f}"] for n, c in states.most_common()])
    doc += ["", "History events per image (one candidate):", ""]
    events = _events_per(one)
    doc += table(["event", "count", "per image"], [[n, str(c), f"{c / images:.2f}"] for n, c in events.most_common()])
    size = sum(r.history_bytes for r in one) / images
    doc += [
        "",
        f"The history holds {size / 1024:.1f} KiB per image (as JSON). The state machine logs every event with its",
        "data to CloudWatch Logs (level ALL), so that is also roughly the log volume per image; logs are not in the",
        "cost figures.",
    ]
    return doc


def storm_section(results: Results) -> list[str]:
    storm = results.storm
    if storm is None:
        return []
    return [
        "",
        "## Throttling storm",
        "",
        f"A 3-candidate run (2 attempts x 2 prompts) whose first {storm.throttle_first} Bedrock calls are throttled",
        "(the stand-in's `throttle_first`) and whose first 3 images are rejected. The state machine retries",
        "`ModelThrottled` (waits recorded, not slept).",
        "",
        *table(
            [
                "status",
                "throttled calls",
                "retries waited",
                "images the model made",
                "kept (S3 and manifest)",
                "left in staging",
                "lost",
            ],
            [
                [
                    storm.status,
                    str(storm.throttled_calls),
                    str(storm.retry_waits),
                    str(storm.images_answered),
                    str(storm.images_kept),
                    str(storm.staging_left),
                    str(storm.lost),
                ]
            ],
        ),
    ]


def overhead_section(results: Results, values: dict[str, Any]) -> list[str]:
    o = results.overhead
    if o is None:
        return []
    return [
        "",
        "## Local overhead per image",
        "",
        f"The local runner with no simulated latency: a {o.images}-image execution (every image rejected,",
        f"{results.settings.overhead_attempts} attempts x {results.settings.overhead_revisions + 1} prompts), "
        f"{len(o.project_s_per_image)} time(s): wall time / images = "
        f"{fmt(values['local_overhead_per_image_s'], 4)} s (samples "
        f"{', '.join(f'{v:.4f}' for v in o.project_s_per_image)}).",
        f"Of that, {o.standin_s_per_image:.4f} s per image is the stand-in's own work (it draws and encodes a",
        f"1024x1024 PNG per image, and the judge decodes it). The reference loop on the same budget: "
        f"{statistics.median(o.reference_s_per_image):.4f} s per image.",
    ]

"""The sections on how the figures were made: what is simulated, and the machine and settings of the run."""

import os
import platform
from datetime import UTC, datetime
from typing import Any

from bench.run import Results


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {
        "system": platform.platform(),
        "cpu": f"{cpu}, {os.cpu_count()} logical cores",
        "python": platform.python_version(),
        "load average (1, 5, 15 min) at the end": load,
    }


def setup_section(results: Results, invariants: dict[str, Any]) -> list[str]:
    s = results.settings
    lat = s.latency
    m = machine()
    return [
        "",
        "## What is simulated",
        "",
        "- **Bedrock**: the project's stand-in (`imgloop/local/standin/`, response shapes from its `answers.py`) at",
        "  botocore's level, with a latency mode from `bench/latency.py`: each call lasts the model's latency",
        f"  times {lat.scale:g} (image {lat.simulated('image'):.2f} s, judge {lat.simulated('judge'):.2f} s, reviser "
        f"{lat.simulated('reviser'):.2f} s, for {lat.image_s:g} s, {lat.judge_s:g} s and {lat.reviser_s:g} s on "
        "Bedrock),",
        "  or the stand-in's own time if that is longer.",
        f"- **Verdicts**: the judge passes an image with probability {s.pass_rate}, drawn from seed {s.seed} and",
        "  keyed by (prompt index, image number), the image number counting candidates, then attempts, then",
        "  revisions; every contender sees the same verdict for the same image. The reply is the stand-in's own",
        "  verdict shape.",
        "- **Step Functions**: the synthesized definition on moto's interpreter, in this process; Retry waits are",
        "  recorded, not slept. **Lambda**: the handlers in-process and warm (one warm-up execution first; cold",
        "  imports are measured apart). **S3**: moto. Network latency to AWS, Step Functions' and Lambda's own",
        "  latencies and cold starts during a run are not simulated.",
        "- **The reference** (`bench/reference/seed_loop.py`): S1's loop in this process, one function invocation per",
        "  prompt, through boto3 and the same stand-in; it sends the project's own model requests, so every",
        "  contender does the same model work.",
        "- **The lower bound**: the simulated model latencies on the critical path of the attempts actually made.",
        "",
        "## Machine and settings",
        "",
        *[f"- {k}: {v}" for k, v in m.items()],
        f"- date: {datetime.fromtimestamp(results.started, UTC):%Y-%m-%d %H:%M:%S} UTC; the run took "
        f"{results.duration_s / 60:.1f} min. The machine is shared: other processes ran during the bench.",
        f"- prompts: {s.prompts} (`bench/settings.py`), repeats: {s.repeats}, budget: `max_retry_attempts: "
        f"{s.max_retry_attempts}, max_prompt_revisions: {s.max_prompt_revisions}` (up to "
        f"{s.max_retry_attempts * (s.max_prompt_revisions + 1)} images per candidate), pass rate {s.pass_rate}, "
        f"seed {s.seed}",
        "- the project's request otherwise takes its defaults: SD3.5 Large 1:1 PNG (1024x1024), Claude Sonnet 4.6",
        "  as judge and reviser, validated against the original requirement",
        "- the project's time is its execution's, from the first to the last history event (moto stamps them to",
        f"  the millisecond; this process looks every {s.poll_s * 1000:.0f} ms whether it has ended); the reference's",
        "  is time.perf_counter around the call",
        f"- local overhead: {s.overhead_repeats} execution(s) of {s.overhead_attempts} x {s.overhead_revisions + 1}; "
        f"storm: throttle_first {s.storm_throttle_first}; cold imports: {s.cold_import_repeats} per handler; "
        f"batch: {s.batch_items} items, {s.batch_concurrency} at a time",
        f"- checks: {', '.join(f'{k} {v}' for k, v in invariants.items())}",
    ]

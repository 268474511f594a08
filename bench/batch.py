"""batch_items_per_min: a local batch of one-image items run by the batch state machine, with no simulated
model latency (the latency mode at scale 0), so that its time is all orchestration (moto's interpreter, the
Distributed Map's item runs, the handlers in-process) plus the stand-in drawing each image."""

import json
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bench.harness import Bench
from bench.markdown import table
from bench.settings import PROMPTS, QUICK, Latency, Settings
from bench.usage import Usage
from imgloop.runs.executions import history, start

# One attempt, no revision: every item makes one image, whatever its verdict.
ONE_IMAGE = {"max_retry_attempts": 1, "max_prompt_revisions": 0}


@dataclass
class Throughput:
    items: int
    concurrency: int
    wall_s: float  # the batch execution's first to last history event
    succeeded: int
    usage: Usage

    @property
    def items_per_min(self) -> float:
        return self.items / self.wall_s * 60 if self.wall_s else 0.0

    @property
    def per_item_s(self) -> float:
        return self.wall_s / self.items


@dataclass
class Ran:
    """One batch execution of one-image items, as the bench ran it."""

    wall_s: float  # the batch execution's first to last history event
    output: dict[str, Any]  # its summary (common.batches.BatchSummary)
    usage: Usage


def run_items(bench: Bench, name: str, items: int, request: dict[str, Any]) -> Ran:
    """A batch of `items` one-image items (the bench's prompts, numbered), with the request's other fields."""
    lines = [json.dumps(f"{PROMPTS[n % len(PROMPTS)]}, number {n}") for n in range(items)]
    key = f"batches/{name}/input.jsonl"
    request = {"batch": name, "input": f"s3://{bench.runner.names.bucket}/{key}", "defaults": ONE_IMAGE, **request}
    with bench.session() as session, bench.meter.measuring(0) as usage:
        session.s3.put_object(Bucket=bench.runner.names.bucket, Key=key, Body="\n".join(lines).encode())
        arn = start(session.sfn, bench.runner.batch_machine_arn, request, name)
        while (found := session.sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
            time.sleep(bench.settings.poll_s)
        events = history(session.sfn, arn)
    wall_s = (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds()
    return Ran(wall_s, json.loads(found.get("output") or "{}"), usage)


def measure(settings: Settings, assembly: Path, say: Any) -> Throughput:
    say(f"batch: {settings.batch_items} one-image items, {settings.batch_concurrency} at a time, no model latency")
    bench = Bench(replace(settings, latency=Latency(scale=0.0)), assembly, seeded=False)
    ran = run_items(bench, "bench", settings.batch_items, {"concurrency": settings.batch_concurrency})
    return Throughput(
        items=settings.batch_items,
        concurrency=settings.batch_concurrency,
        wall_s=ran.wall_s,
        succeeded=int(ran.output.get("succeeded", 0)),
        usage=ran.usage,
    )


def figures(batch: Throughput | None) -> dict[str, Any]:
    if batch is None:
        return {"batch_items_per_min": None, "batch_overhead_per_item_s": None, "batch_items": None}
    return {
        "batch_items_per_min": round(batch.items_per_min, 1),
        "batch_overhead_per_item_s": round(batch.per_item_s, 4),
        "batch_items": batch.items,
    }


def holds(batch: Throughput | None) -> bool:
    """Every item succeeded with exactly one image, generated and judged once."""
    if batch is None:
        return True
    usage = batch.usage
    return batch.succeeded == usage.images == usage.image_calls == usage.judge_calls == batch.items


def goal_row(values: dict[str, Any]) -> list[str]:
    """The batch figure's line in the goals tables: reported, without a goal."""
    items = values["batch_items"]
    note = f"{items} one-image items, no model latency" if items else "not measured"
    value = values["batch_items_per_min"]
    return ["batch_items_per_min", "n/a" if value is None else f"{value:.1f}", "reported", note]


def section(batch: Throughput | None, latency: Latency) -> list[str]:
    if batch is None:
        return []
    usage = batch.usage
    model_s = latency.image_s + latency.judge_s
    return [
        "",
        "## Batch throughput",
        "",
        f"A batch of {batch.items} prompts in a JSON Lines file, {batch.concurrency} items at a time, each item one",
        "attempt with no revision (`max_retry_attempts: 1`, `max_prompt_revisions: 0`), so one image each, judged",
        "by the stand-in's own judge (which passes it). The batch state machine reads the batch, runs the image",
        "loop on each item in a Distributed Map and files its outcome, then writes the batch manifest. No model",
        "latency is simulated (the latency mode at scale 0): the time is the orchestration's and the stand-in's",
        f"own work. `--quick` runs {QUICK.batch_items} items instead of {Settings().batch_items}.",
        "",
        *table(
            ["items", "succeeded", "wall s", "items per minute", "s per item", "Lambda requests per item"],
            [
                [
                    str(batch.items),
                    str(batch.succeeded),
                    f"{batch.wall_s:.1f}",
                    f"{batch.items_per_min:.1f}",
                    f"{batch.per_item_s:.4f}",
                    f"{usage.lambda_requests / batch.items:.2f}",
                ]
            ],
        ),
        "",
        "- Wall time is the batch execution's, first to last history event. Per item it is the orchestration",
        "  overhead with no model latency: the items share this machine's cores, so it is the cost of an item to",
        "  the batch, not one item's duration. Inside Bedrock calls (the stand-in drawing and encoding a 1024x1024",
        f"  PNG, the judge decoding it) the items spent {usage.model_s / batch.items:.4f} s each, summed over items.",
        f"- On AWS each item waits for its models (about {model_s:g} s for an image and its judge), so at this",
        f"  concurrency a batch is bounded by {batch.concurrency} x 60 / {model_s:g} = "
        f"{batch.concurrency * 60 / model_s:.1f} items per minute whatever the",
        "  orchestration; the batch's `concurrency` (up to 100) and Bedrock's quotas set the pace there.",
    ]

"""Run the contenders: this project on the local runner (moto's Step Functions interpreter, the handlers
in-process), and the seed's loop in this process, against one stand-in with the bench's meter around it."""

import json
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bench.latency import Meter
from bench.reference.seed_loop import SeedEvent, handler
from bench.settings import Latency, Settings
from bench.usage import Usage
from bench.verdicts import Verdicts
from common.names import MANIFEST_FILE
from imgloop.local.assembly import template
from imgloop.local.runner import LocalRunner
from imgloop.local.standin.service import Scenario
from imgloop.runs.executions import history, run_folder, start

REFERENCE = "seed loop (reference)"
PROJECT_1 = "imgloop, 1 candidate"
PROJECT_3 = "imgloop, 3 candidates"
LOWER_BOUND = "lower bound (model latency)"


@dataclass
class Run:
    """One execution of one prompt by one contender."""

    contender: str
    prompt_index: int
    repeat: int
    wall_s: float  # the project: its history's first to last event; the reference: around the call
    accepted: bool
    usage: Usage
    lower_bound_s: float  # the simulated model latency on the critical path of the attempts this run made
    transitions: int = 0
    history_events: int = 0
    history_bytes: int = 0
    events_by_type: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)  # states entered, by name
    execution_arn: str | None = None
    polled_s: float | None = None  # the project: start_execution until this process saw it end

    @property
    def images(self) -> int:
        return self.usage.images


def lower_bound(usage: Usage, latency: Latency) -> float:
    """Each attempt waits for its images (drawn in parallel), then for their judges (in parallel); each
    revision waits for the reviser. Nothing else has to happen in sequence."""
    image, judge, reviser = (latency.simulated(kind) for kind in ("image", "judge", "reviser"))
    return sum(image + (judge if judged else 0.0) for judged in usage.attempts.values()) + usage.reviser_calls * reviser


def history_counts(events: list[dict[str, Any]]) -> tuple[int, int, Counter[str]]:
    """State transitions (one per state entered, plus one per retry, as Step Functions bills them),
    history events, and the events by type."""
    types = Counter(e["type"] for e in events)
    entered = sum(n for t, n in types.items() if t.endswith("StateEntered"))
    retries = max(0, types["TaskScheduled"] - types["TaskStateEntered"])
    return entered + retries, len(events), types


def memory_by_function(assembly: Path, runner: LocalRunner) -> dict[str, float]:
    resources = template(assembly)["Resources"]
    return {
        runner.names.function_arn(logical_id): resource["Properties"].get("MemorySize", 128) / 1024
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::Lambda::Function" and "Handler" in resource["Properties"]
    }


class Bench:
    """One local account (one moto Step Functions, one S3, one stand-in) for every contender of a run."""

    def __init__(
        self, settings: Settings, assembly: Path, scenario: Scenario | None = None, seeded: bool = True
    ) -> None:
        """`seeded` False leaves the verdicts to the stand-in's own judge (and its scenario)."""
        self.settings = settings
        self.runner = LocalRunner(assembly, scenario)
        memory = memory_by_function(assembly, self.runner)
        self.meter = Meter(
            settings.latency,
            Verdicts(settings.seed, settings.pass_rate, settings.max_retry_attempts) if seeded else None,
            memory_gb=max(memory.values(), default=0.5),
            memory_by_function=memory,
        )
        self.runner.hooks.append(self.meter.register)
        self.prompts = settings.prompt_list()

    @contextmanager
    def session(self) -> Iterator["Session"]:
        with self.runner.session() as (sfn, machine_arn):
            yield Session(self, sfn, machine_arn)


class Session:
    def __init__(self, bench: Bench, sfn: Any, machine_arn: str) -> None:
        self.bench = bench
        self.sfn = sfn
        self.machine_arn = machine_arn
        self.s3 = boto3.client("s3")
        # The seed's function makes its own clients (one try at Bedrock, as the project's; the stand-in
        # answers above botocore's retry loop anyway).
        self.bedrock = boto3.client("bedrock-runtime", config=Config(retries={"total_max_attempts": 1}))
        self._names = 0

    def _name(self, label: str) -> str:
        self._names += 1
        return f"bench-{label}-{self._names:04d}"

    def project(
        self,
        prompt_index: int,
        candidates: int,
        repeat: int = 0,
        attempts: int | None = None,
        revisions: int | None = None,
    ) -> Run:
        settings = self.bench.settings
        event = {
            "prompt": self.bench.prompts[prompt_index],
            "max_retry_attempts": attempts or settings.max_retry_attempts,
            "max_prompt_revisions": settings.max_prompt_revisions if revisions is None else revisions,
            "candidates": candidates,
        }
        meter = self.bench.meter
        with meter.measuring(prompt_index) as usage:
            started = time.perf_counter()
            arn = start(self.sfn, self.machine_arn, event, self._name(f"c{candidates}"))
            while (status := self.sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
                time.sleep(settings.poll_s)
            polled = time.perf_counter() - started
        events = history(self.sfn, arn)
        transitions, count, types = history_counts(events)
        # The execution's own duration, from its first and last history events (moto stamps them to the ms):
        # what the Step Functions console shows, free of how often this loop looks.
        wall = (events[-1]["timestamp"] - events[0]["timestamp"]).total_seconds()
        return Run(
            contender=PROJECT_1
            if candidates == 1
            else PROJECT_3
            if candidates == 3
            else f"imgloop, {candidates} candidates",
            prompt_index=prompt_index,
            repeat=repeat,
            wall_s=wall,
            polled_s=polled,
            accepted=status == "SUCCEEDED",
            usage=usage,
            lower_bound_s=lower_bound(usage, meter.latency),
            transitions=transitions,
            history_events=count,
            history_bytes=sum(len(json.dumps(e, default=str)) for e in events),
            events_by_type=types,
            states=Counter(e["stateEnteredEventDetails"]["name"] for e in events if e["type"].endswith("StateEntered")),
            execution_arn=arn,
        )

    def reference(
        self, prompt_index: int, repeat: int = 0, attempts: int | None = None, revisions: int | None = None
    ) -> Run:
        settings = self.bench.settings
        event = SeedEvent(
            prompt=self.bench.prompts[prompt_index],
            bucket=self.bench.runner.names.bucket,
            max_retry_attempts=attempts or settings.max_retry_attempts,
            max_prompt_revisions=settings.max_prompt_revisions if revisions is None else revisions,
        )
        meter = self.bench.meter
        with meter.measuring(prompt_index) as usage:
            started = time.perf_counter()
            result = handler(event, self.bedrock, self.s3, meter)
            wall = time.perf_counter() - started
        return Run(
            contender=REFERENCE,
            prompt_index=prompt_index,
            repeat=repeat,
            wall_s=wall,
            accepted=result.status == "SUCCESS",
            usage=usage,
            lower_bound_s=lower_bound(usage, meter.latency),
        )

    def run_files(self, run_arn_history: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]]:
        """The objects of a run's folder and its manifest."""
        opened = run_folder(run_arn_history)
        if opened is None:
            return [], {}
        bucket, folder = opened
        keys = [o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket, Prefix=f"{folder}/").get("Contents", [])]
        manifest = json.loads(self.s3.get_object(Bucket=bucket, Key=f"{folder}/{MANIFEST_FILE}")["Body"].read())
        return keys, manifest


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")

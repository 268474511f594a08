"""The scenarios every engine runs: each is one execution of the loop (or the batch) with its stand-in
scenario and faults, and what moto, the reference engine, must end with."""

from dataclasses import dataclass, field
from typing import Any

from imgloop.local.standin.answers import THROTTLED, HttpError
from imgloop.local.standin.triggers import Triggers
from imgloop.runs.uploads import Upload
from tests.conftest import EVENTS, load_event
from tests.faults.injector import Crash, Fault, Filtered

LOOP = "loop"
BATCH = "batch"
SMALL = load_event("small_budget.json")
LAKE = (EVENTS / "lake.png").read_bytes()
BOAT_MASK = (EVENTS / "lake_boat_mask.png").read_bytes()
BUCKET = "imgloop-local-images"


@dataclass(frozen=True)
class ConformanceScenario:
    name: str
    machine: str
    event: dict[str, Any]
    status: str  # moto's end, checked before any other engine is compared with it
    error: str | None = None
    standin: dict[str, Any] = field(default_factory=dict)
    faults: tuple[Fault, ...] = ()
    uploads: tuple[Upload, ...] = ()
    lines: tuple[str, ...] = ()  # a batch's input file


def _edit_uploads(name: str) -> tuple[Upload, ...]:
    return (
        Upload("source_image", f"uploads/{name}/source.png", LAKE, "image/png"),
        Upload("mask_image", f"uploads/{name}/mask.png", BOAT_MASK, "image/png"),
    )


def scenarios() -> list[ConformanceScenario]:
    """New fault objects each time: a Fault counts the calls it answered."""
    from imgloop.runs.uploads import naming

    erase = _edit_uploads("c-edit")
    return [
        ConformanceScenario("retries-then-success", LOOP, SMALL, "SUCCEEDED", standin={"throttle_first": 2}),
        ConformanceScenario("revise-then-pass", LOOP, SMALL, "SUCCEEDED", standin={"reject_first": 2}),
        ConformanceScenario(
            "budget-used-up", LOOP, SMALL, "FAILED", "RequirementsNotMet", standin={"reject_first": 99}
        ),
        ConformanceScenario(
            "refused-generation", LOOP, SMALL, "SUCCEEDED", faults=(Fault("bedrock-runtime.InvokeModel", Filtered()),)
        ),
        ConformanceScenario("invalid-input", LOOP, {**SMALL, "candidates": 0}, "FAILED", "InvalidInput"),
        ConformanceScenario(
            "crashing-task",
            LOOP,
            SMALL,
            "FAILED",
            "RuntimeError",
            faults=(Fault("s3.CopyObject", Crash("injected crash in CopyObject"), count=1),),
        ),
        ConformanceScenario(
            "access-denied",
            LOOP,
            SMALL,
            "FAILED",
            "ModelUnavailable",
            faults=(
                Fault(
                    "bedrock-runtime.InvokeModel",
                    HttpError(403, "AccessDeniedException", "You don't have access to the model."),
                    count=None,
                ),
            ),
        ),
        ConformanceScenario(
            "throttled-past-retries",
            LOOP,
            SMALL,
            "FAILED",
            "ModelThrottled",
            faults=(Fault("bedrock-runtime.InvokeModel", THROTTLED, count=None),),
        ),
        ConformanceScenario(
            "edit-erase", LOOP, naming(load_event("edit_erase.json"), BUCKET, erase), "SUCCEEDED", uploads=erase
        ),
        ConformanceScenario(
            "batch-bad-line",
            BATCH,
            {"batch": "conf", "defaults": {"max_retry_attempts": 2, "max_prompt_revisions": 0}, "concurrency": 2},
            "SUCCEEDED",
            standin={"triggers": Triggers(refuse_words=("forbidden",))},
            lines=('{"prompt": "A red bicycle, a blue wall"}', "{not json", '{"prompt": "A forbidden garden"}'),
        ),
    ]

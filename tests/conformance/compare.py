"""Comparing an engine's end of a scenario with moto's, and the divergences AWS's documentation decides."""

from dataclasses import dataclass
from typing import Any

from tests.conformance.harness import End, normal
from tests.conformance.scenarios import BATCH, ConformanceScenario

DOCS = "https://docs.aws.amazon.com/step-functions/latest/dg"


@dataclass(frozen=True)
class Known:
    """A divergence of an engine from AWS, with the page of the Step Functions docs that decides it."""

    engine: str
    construct: str
    engine_does: str
    aws_does: str
    url: str
    resolution: str

    def report(self) -> dict[str, str]:
        return {
            "engine": self.engine,
            "construct": self.construct,
            "engine_does": self.engine_does,
            "aws_does": self.aws_does,
            "decided_by": self.url,
            "resolution": self.resolution,
        }


RESULT_PATH_ROOT = Known(
    "aws-local-stepfunctions",
    '"ResultPath": "$" (CDK writes it for result_path="$")',
    'writes the result to a key named "$" in the state input',
    "the result replaces the whole state input, as with no ResultPath",
    f"{DOCS}/input-output-resultpath.html",
    'the harness leaves "ResultPath": "$" out of the definition it gives this engine (the same, per AWS)',
)


def differences(scenario: ConformanceScenario, reference: End, got: End) -> list[dict[str, Any]]:
    """Where the engine's end differs from moto's: status, error, cause, output, the task calls."""
    found = []
    ordered = scenario.machine != BATCH  # a batch's items run in parallel, in any order
    pairs: dict[str, tuple[Any, Any]] = {
        "status": (reference.status, got.status),
        "error": (reference.error, got.error),
        "cause": (normal(reference.cause), normal(got.cause)),
        "output": (normal(reference.output), normal(got.output)),
    }
    for name, (expected, actual) in pairs.items():
        if expected != actual:
            found.append({"field": name, "moto": _short(expected), "engine": _short(actual)})
    calls = [c if ordered else sorted(c) for c in (reference.calls, got.calls)]
    if calls[0] != calls[1]:
        # The functions called, by name; the payloads are in the recording.
        named = [[function.rsplit(":", 1)[-1] for function, _ in c] for c in calls]
        found.append({"field": "calls", "moto": _short(named[0]), "engine": _short(named[1])})
    return found


def _short(value: Any) -> Any:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= 400 else text[:400] + "..."

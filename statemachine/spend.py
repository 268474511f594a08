"""The run's spend as the state machine keeps it: integer micro-dollars in `$.loop.spend`, added up with
States.MathAdd from what each task reports, and compared with the cap "Check input" worked out.

`$.budget` (from "Check input", `common.spend.Budget`) holds the cap and the most an attempt, or a
revised prompt and its attempt, can cost. After each attempt one Pass adds the attempt's cost to what
was spent and works out where the next attempt (or revision) could take it, for the Choice to compare
with the cap; the Pass states that start a prompt add the reviser's call.
"""

from typing import Any

from aws_cdk import aws_stepfunctions as sfn

SPENT = "$.loop.spend.spent_usd_micro"
NEXT_ATTEMPT = "$.loop.spend.next_attempt_usd_micro"
NEXT_REVISION = "$.loop.spend.next_revision_usd_micro"
CAP = "$.budget.cap_usd_micro"


def padded(path: str, width: int) -> str:
    """The numbers at `path` (a JSONPath to an array of 1 to `width` of them) followed by `width` zeros.

    JSONPath's intrinsics cannot sum an array, and States.ArrayGetItem fails past its end, so the array
    is written out as text, its closing bracket swapped for the zeros, and read back: a fixed number of
    States.MathAdd then sums it, whatever the number of candidates."""
    zeros = ",0" * width
    text = f"States.ArrayGetItem(States.StringSplit(States.JsonToString({path}), ']'), 0)"
    return f"States.StringToJson(States.Format('{{}}{zeros}]', {text}))"


def sum_of(path: str, width: int) -> str:
    """The sum of the numbers at `path` (1 to `width` of them, `width` a power of two), as a balanced
    tree of States.MathAdd, which keeps its nesting within the ten that Step Functions allows."""
    terms = [f"States.ArrayGetItem({padded(path, width)}, {i})" for i in range(width)]
    while len(terms) > 1:
        terms = [f"States.MathAdd({a}, {b})" for a, b in zip(terms[::2], terms[1::2], strict=True)]
    return terms[0]


def attempt_cost(width: int) -> str:
    """An attempt's cost, from the candidates' results (the Map's result): their images and judges."""
    return f"States.MathAdd({sum_of('$[*].image_usd_micro', width)}, {sum_of('$[*].judge_usd_micro', width)})"


def count_attempt(scope: Any, name: str) -> sfn.Pass:
    """Adds the attempt's cost (`$.loop.tally.usd_micro`) to the spend and works out the ceilings the
    Choice compares with the cap. (Intrinsics written out: CDK's math_add takes no nested intrinsic.)"""
    spent = f"States.MathAdd({SPENT}, $.loop.tally.usd_micro)"
    return sfn.Pass(
        scope,
        name,
        parameters={
            "spent_usd_micro.$": spent,
            "next_attempt_usd_micro.$": f"States.MathAdd({spent}, $.budget.attempt_usd_micro)",
            "next_revision_usd_micro.$": f"States.MathAdd({spent}, $.budget.revision_usd_micro)",
        },
        result_path="$.loop.spend",
    )


def start_prompt(proposal: str | None) -> dict[str, Any]:
    """What a Pass that starts a prompt sets: the spend so far plus the rewrite that wrote the prompt
    (at `proposal`, None for the request's own), and that rewrite's cost, which Save files with its images."""
    if proposal is None:
        return {"spend": {"spent_usd_micro": 0}, "prompt_usd_micro": 0}
    return {
        "spend": {"spent_usd_micro.$": f"States.MathAdd({SPENT}, {proposal}.usd_micro)"},
        "prompt_usd_micro": sfn.JsonPath.number_at(f"{proposal}.usd_micro"),
    }

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


# What each candidate's iteration keeps of Validate's answer for the tally: [attempt, passed, cost].
TALLIED = (
    "$.Payload.attempt",
    "$.Payload.passed",
    "States.MathAdd($.Payload.image_usd_micro, $.Payload.judge_usd_micro)",
)
# The Map's result, [[attempt, passed, cost], ...], as compact JSON text split at its commas: "true" stands
# alone exactly where a candidate passed (a passed flag sits between two numbers).
_PIECES = "States.StringSplit(States.JsonToString($), ',')"
ANY_PASSED = f"States.ArrayContains({_PIECES}, 'true')"


def attempt_cost(width: int) -> str:
    """What the attempt's candidates (1 to `width` of them) cost, from the Map's result.

    JSONPath's intrinsics cannot sum an array, and States.ArrayGetItem fails past its end, so the result is
    written out as text, padded with zeros, split at its commas, and each candidate's cost (every third
    piece, its closing brackets cut) read back as a number; a balanced tree of States.MathAdd adds them,
    within the ten nested intrinsics Step Functions allows. Only one-character delimiters are split on, as
    every engine splits them alike."""
    padded = f"States.StringSplit(States.Format('{{}}{',0' * 3 * width}', States.JsonToString($)), ',')"
    pieces = [f"States.ArrayGetItem({padded}, {3 * k + 2})" for k in range(width)]
    terms = [f"States.StringToJson(States.ArrayGetItem(States.StringSplit({piece}, ']'), 0))" for piece in pieces]
    while len(terms) > 1:
        terms = [f"States.MathAdd({a}, {b})" for a, b in zip(terms[::2], terms[1::2], strict=True)]
    return terms[0]


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

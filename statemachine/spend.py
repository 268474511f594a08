"""The run's spend as the state machine keeps it: integer micro-dollars in `$.loop.tally`, added up with
States.MathAdd from what each task reports, and compared with the ceilings "Check input" worked out.

`$.budget` (from "Check input", `common.spend.Budget`) holds the cap, the most an attempt, or a revised
prompt and its attempt, can cost, and the spend up to which each still fits under the cap. The spend
travels like the attempt count: the candidates Map hands each iteration what the run had spent before
the attempt, Validate hands it back beside the candidate's cost, and the Map's result selector adds the
attempt's costs to it; the Pass states that start a prompt add the reviser's call. So an attempt needs
no Pass state of its own for the spend (each costs a transition and two history events).
"""

from typing import Any

from aws_cdk import aws_stepfunctions as sfn

SPENT = "$.loop.tally.spent_usd_micro"
ATTEMPT_WITHIN = "$.budget.attempt_within_usd_micro"
REVISION_WITHIN = "$.budget.revision_within_usd_micro"


# What each candidate's iteration keeps of Validate's answer for the tally: [attempt, passed, cost, spent
# before the attempt].
TALLIED = (
    "$.Payload.attempt",
    "$.Payload.passed",
    "States.MathAdd($.Payload.image_usd_micro, $.Payload.judge_usd_micro)",
    "$.Payload.spent_usd_micro",
)
_WIDTH = len(TALLIED)
# The Map's result, [[attempt, passed, cost, spent], ...], as compact JSON text split at its commas: "true"
# stands alone exactly where a candidate passed (a passed flag sits between two numbers).
_PIECES = "States.StringSplit(States.JsonToString($), ',')"
ANY_PASSED = f"States.ArrayContains({_PIECES}, 'true')"


def spent_after(width: int) -> str:
    """What the run has spent after the attempt: the spend before it (the first candidate's) plus what
    the attempt's candidates (1 to `width` of them) cost, from the Map's result.

    JSONPath's intrinsics cannot sum an array, and States.ArrayGetItem fails past its end, so the result is
    written out as text, padded with zeros, split at its commas, and each candidate's cost (the third of
    its four pieces, never next to a bracket) read back as a number; a balanced tree of States.MathAdd adds
    them, within the ten nested intrinsics Step Functions allows (eight here). Only one-character
    delimiters are split on, as every engine splits them alike."""
    padded = f"States.StringSplit(States.Format('{{}}{',0' * _WIDTH * width}', States.JsonToString($)), ',')"
    terms = [f"States.StringToJson(States.ArrayGetItem({padded}, {_WIDTH * k + 2}))" for k in range(width)]
    while len(terms) > 1:
        terms = [f"States.MathAdd({a}, {b})" for a, b in zip(terms[::2], terms[1::2], strict=True)]
    before = f"States.ArrayGetItem(States.ArrayGetItem($, 0), {_WIDTH - 1})"
    return f"States.MathAdd({before}, {terms[0]})"


def start_prompt(proposal: str | None) -> dict[str, Any]:
    """What a Pass that starts a prompt sets: a tally with no attempt made and the spend so far plus the
    rewrite that wrote the prompt (at `proposal`, None for the request's own), and that rewrite's cost,
    which Save files with its images."""
    if proposal is None:
        return {"tally": {"attempt": 0, "spent_usd_micro": 0}, "prompt_usd_micro": 0}
    return {
        "tally": {"attempt": 0, "spent_usd_micro.$": f"States.MathAdd({SPENT}, {proposal}.usd_micro)"},
        "prompt_usd_micro": sfn.JsonPath.number_at(f"{proposal}.usd_micro"),
    }

"""The image loop as Amazon States Language (JSONPath), built with CDK so it is defined once.

Counters live in `$.loop` and change only in the state machine: the prompt's revision in Pass
states, the attempt at it in the candidates Map's selectors (States.MathAdd); Choice states decide
whether to try again, revise the prompt or stop. The functions only do their one job each.
"""

from dataclasses import dataclass
from functools import partial
from typing import Any

from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from common.request import MAX_CANDIDATES
from common.results import CandidateResult, Failed, Generated, NotMet, Opened, Proposal, Recorded, Success
from statemachine import payloads, spend
from statemachine.tasks import MessageStates, RetryPolicy, error_message, explained, lambda_task


@dataclass(frozen=True)
class LoopEntry:
    """Where the loop finds its request and the name of its run, and how it ends.

    A standalone execution runs on its input, names its run after itself and ends in Succeed or Fail.
    A batch's item runs on the item's request under the item's own run name (children of a
    Distributed Map have generated names), and ends in a Pass that says how it went: the item
    records that, and one failed item never fails the batch."""

    request: str
    name: str
    started_at: str | None
    as_item: bool


STANDALONE = LoopEntry("$", "$$.Execution.Name", "$$.Execution.StartTime", as_item=False)
# The local interpreter hands a Map child's start time over as an object it cannot serialize, so an
# item's manifest takes the time its run opened.
BATCH_ITEM = LoopEntry("$.item.request", "$.item.name", None, as_item=True)


@dataclass(frozen=True)
class LoopFunctions:
    generate: lambda_.IFunction
    save: lambda_.IFunction
    validate: lambda_.IFunction
    revise: lambda_.IFunction


class ImageLoopDefinition(Construct):
    """Builds the chain; `start` is the first state for the state machine.

    The steps as the workflow diagram draws them: check the input, start from the original prompt (or
    its translation), make the candidates, decide, revise the prompt and make them again, or close."""

    def __init__(
        self, scope: Construct, id: str, functions: LoopFunctions, retry: RetryPolicy, entry: LoopEntry = STANDALONE
    ) -> None:
        super().__init__(scope, id)
        self.entry = entry
        self.functions = functions
        self.task = partial(lambda_task, self, retry)
        unrecorded = self._unrecorded_failure()
        failure = self._report_failure(unrecorded)
        candidates = self._candidates(failure)
        candidates.next(self._decide(candidates, failure, unrecorded))
        self.start = (
            self._check_input(unrecorded)
            .next(self._loop_pass("Start with the original prompt", 0, "$.request", spend.start_prompt(None)))
            .next(self._translate_first(candidates, failure))
        )

    def _check_input(self, unrecorded: sfn.IChainable) -> tasks.LambdaInvoke:
        """Save checks the request and opens the run's record; a rejected request fails with its reason."""
        entry = self.entry
        check = self.task(
            "Check input",
            self.functions.save,
            payloads.open_run(entry.request, entry.name, entry.started_at),
            "$",
            Opened,
        )
        explain_rejection = explained(self, "Explain rejected input")
        rejected = self._failed("Input rejected", error="InvalidInput", cause_path="$.detail.errorMessage")
        check.add_catch(explain_rejection.next(rejected), errors=["InvalidInput"], result_path="$")
        check.add_catch(unrecorded, errors=["States.ALL"], result_path="$")
        return check

    def _translate_first(self, candidates: sfn.Map, failure: sfn.IChainable) -> sfn.Choice:
        translate = self._rewrite("Translate prompt", "translate", failure)
        spent = spend.start_prompt("$.proposal")
        use_translation = self._loop_pass("Use the translation", 0, "$.proposal", spent)
        return (
            sfn.Choice(self, "Translate first?")
            .when(
                sfn.Condition.boolean_equals("$.request.translate", True),
                translate.next(use_translation).next(candidates),
            )
            .otherwise(candidates)
        )

    def _candidates(self, failure: sfn.IChainable) -> sfn.Map:
        """One attempt: every candidate is generated, filed and judged in parallel."""
        candidates = sfn.Map(
            self,
            "Make candidates",
            items_path="$.loop.candidates",
            # The attempt is counted here, for the iterations, and the tally carries the count and the
            # spend on: no Pass state per attempt (each costs a transition and two history events).
            item_selector={
                "request": sfn.JsonPath.object_at("$.request"),
                "run": sfn.JsonPath.object_at("$.run"),
                "loop": {
                    "revision": sfn.JsonPath.number_at("$.loop.revision"),
                    "attempt": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.loop.tally.attempt"), 1),
                    "prompt_usd_micro": sfn.JsonPath.number_at("$.loop.prompt_usd_micro"),
                    "spent_usd_micro": sfn.JsonPath.number_at(spend.SPENT),
                    **payloads.loop_prompt_at("$.loop"),
                },
                "candidate": sfn.JsonPath.number_at("$$.Map.Item.Value"),
            },
            max_concurrency=MAX_CANDIDATES,
            # Each candidate answers [attempt, passed, cost, spent before], so the tally is read by intrinsic
            # functions alone: a wildcard over the candidates ($[*].passed) is a list on AWS and moto but a
            # bare value on LocalStack when there is one candidate (docs/conformance.md). The attempt is the
            # first candidate's; statemachine.spend reads whether any passed and adds what they cost.
            result_selector={
                "attempt.$": "States.ArrayGetItem(States.ArrayGetItem($, 0), 0)",
                "accepted.$": spend.ANY_PASSED,
                "spent_usd_micro.$": spend.spent_after(MAX_CANDIDATES),
            },
            result_path="$.loop.tally",
        )
        save = self.functions.save
        generate = self.task("Generate image", self.functions.generate, payloads.generate(), "$.generation", Generated)
        record = self.task("Save image", save, payloads.record(), "$.record", Recorded)
        # Validate answers with the candidate's result (a refused generation it answers itself, from the
        # refusal, without a judge); the iteration keeps [attempt, passed, cost, spent] of it for the tally.
        validate = self.task(
            "Validate image", self.functions.validate, payloads.validate(), "$", CandidateResult, spend.TALLIED
        )
        candidates.item_processor(generate.next(record).next(validate))
        candidates.add_catch(failure, errors=["States.ALL"], result_path="$.failure")
        return candidates

    def _decide(self, candidates: sfn.Map, failure: sfn.IChainable, unrecorded: sfn.IChainable) -> sfn.Choice:
        """One decision after each attempt, its rules in order: a pass ends the run; else another attempt
        at this prompt; else a revised prompt; else the budget is used up. Another attempt, or a revised
        prompt and its attempt, is made only if its worst case stays within the cap; where the budget
        had more, the run stops at the cap."""
        attempts_left = sfn.Condition.number_less_than_json_path("$.loop.tally.attempt", "$.request.max_retry_attempts")
        revisions_left = sfn.Condition.number_less_than_json_path("$.loop.revision", "$.request.max_prompt_revisions")
        return (
            sfn.Choice(self, "Accepted, try again or revise?")
            .when(sfn.Condition.boolean_equals("$.loop.tally.accepted", True), self._report_success(failure))
            .when(
                sfn.Condition.and_(
                    attempts_left, sfn.Condition.number_less_than_equals_json_path(spend.SPENT, spend.ATTEMPT_WITHIN)
                ),
                candidates,
            )
            .when(
                sfn.Condition.and_(
                    revisions_left, sfn.Condition.number_less_than_equals_json_path(spend.SPENT, spend.REVISION_WITHIN)
                ),
                self._revise(failure).next(candidates),
            )
            .when(
                sfn.Condition.or_(attempts_left, revisions_left),
                self._report_not_met(unrecorded, "cap", "Report spending cap reached", "Spending cap reached"),
            )
            .otherwise(
                self._report_not_met(unrecorded, "budget", "Report requirements not met", "Requirements not met")
            )
        )

    def _revise(self, failure: sfn.IChainable) -> sfn.Chain:
        revise = self._rewrite("Revise prompt", "revise", failure)
        next_revision = sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.loop.revision"), 1)
        spent = spend.start_prompt("$.proposal")
        return revise.next(self._loop_pass("Use the revised prompt", next_revision, "$.proposal", spent))

    def _rewrite(self, name: str, mode: str, failure: sfn.IChainable) -> tasks.LambdaInvoke:
        rewrite = self.task(name, self.functions.revise, payloads.rewrite(mode), "$.proposal", Proposal)
        rewrite.add_catch(failure, errors=["States.ALL"], result_path="$.failure")
        return rewrite

    def _report_success(self, failure: sfn.IChainable) -> sfn.Chain:
        report = self.task("Report success", self.functions.save, payloads.succeeded(), "$", Success)
        report.add_catch(failure, errors=["States.ALL"], result_path="$.failure")
        return report.next(self._succeeded())

    def _report_not_met(self, unrecorded: sfn.IChainable, stopped_by: str, name: str, end: str) -> sfn.Chain:
        """Close a run whose budget, or whose spending cap, is used up: the best image so far is kept."""
        report = self.task(name, self.functions.save, payloads.not_met(stopped_by), "$.closing", NotMet)
        report.add_catch(unrecorded, errors=["States.ALL"], result_path="$")
        return report.next(
            self._failed(end, error="RequirementsNotMet", cause_path="$.closing.cause", run_path="$.run")
        )

    def _report_failure(self, unrecorded: sfn.IChainable) -> sfn.Chain:
        """Any other error that outlived its retries: close the run (file every image, record the error)
        and fail with the error's own name and a cause without the stack trace."""
        report = self.task("Report failure", self.functions.save, payloads.failed(), "$.closing", Failed)
        report.add_catch(unrecorded, errors=["States.ALL"], result_path="$")
        return report.next(
            self._failed("Run failed", error_path="$.closing.error", cause_path="$.closing.cause", run_path="$.run")
        )

    def _unrecorded_failure(self) -> sfn.Choice:
        """An error outside the run's record (before it opened, or while closing it): fail with the
        error's name and its message, never the Lambda error's JSON with its stack trace."""
        failed = self._failed("Run failed unrecorded", error_path="$.Error", cause_path="$.detail.errorMessage")
        names = MessageStates(
            "Is the cause a function's error?",
            "Read the error message",
            "Keep the cause",
            "Is it a Step Functions error?",
            "Name the error ours",
        )
        return error_message(self, names, failed)

    def _failed(
        self,
        name: str,
        cause_path: str,
        error: str | None = None,
        error_path: str | None = None,
        run_path: str | None = None,
    ) -> sfn.Fail | sfn.Pass:
        """The end of a run that failed: a Fail state, or for a batch's item the outcome it records."""
        if not self.entry.as_item:
            return sfn.Fail(self, name, error=error, error_path=error_path, cause_path=cause_path)
        outcome: dict[str, Any] = {
            "status": "FAILED",
            "error": error or sfn.JsonPath.string_at(error_path or "$.Error"),
            "cause": sfn.JsonPath.string_at(cause_path),
        }
        if run_path is not None:
            outcome["bucket"] = sfn.JsonPath.string_at(f"{run_path}.bucket")
            outcome["manifest_key"] = sfn.JsonPath.string_at(f"{run_path}.manifest_key")
        return sfn.Pass(self, name, parameters=outcome)

    def _succeeded(self) -> sfn.Succeed | sfn.Pass:
        if not self.entry.as_item:
            return sfn.Succeed(self, "Done")
        return sfn.Pass(
            self,
            "Done",
            parameters={
                "status": "SUCCEEDED",
                "cause": sfn.JsonPath.string_at("$.message"),
                "bucket": sfn.JsonPath.string_at("$.bucket"),
                "manifest_key": sfn.JsonPath.string_at("$.manifest_key"),
            },
        )

    def _loop_pass(self, name: str, revision: Any, prompts_from: str, tally: dict[str, Any]) -> sfn.Pass:
        """Set the prompt, its revision number and the candidates to make in `$.loop`, with no attempt
        made at it yet: the Map counts the attempts in `$.loop.tally`, these passes start them anew, the
        spend carried on (`tally`, from `statemachine.spend.start_prompt`)."""
        return sfn.Pass(
            self,
            name,
            parameters={
                "revision": revision,
                **payloads.loop_prompt_at(prompts_from),
                "candidates": sfn.JsonPath.array_range(1, sfn.JsonPath.number_at("$.request.candidates"), 1),
                **tally,
            },
            result_path="$.loop",
        )

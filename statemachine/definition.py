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
from constructs import Construct

from common.request import MAX_CANDIDATES
from common.results import CandidateResult, Failed, Generated, NotMet, Opened, Proposal, Recorded, Success
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


def _payload(**fields: Any) -> sfn.TaskInput:
    """A task's payload: its run and the fields it needs, each taken from the state by path."""
    return sfn.TaskInput.from_object({"run": sfn.JsonPath.object_at("$.run"), **fields})


def _slot(**fields: Any) -> sfn.TaskInput:
    """The payload of a task about one image: where it sits in the loop (inside the Map) and its prompt."""
    return _payload(
        revision=sfn.JsonPath.number_at("$.loop.revision"),
        attempt=sfn.JsonPath.number_at("$.loop.attempt"),
        candidate=sfn.JsonPath.number_at("$.candidate"),
        candidates=sfn.JsonPath.number_at("$.request.candidates"),
        **fields,
    )


def _edit() -> dict[str, Any]:
    """What an edit works on, for the tasks that look at images."""
    return {
        "mode": sfn.JsonPath.string_at("$.request.mode"),
        "source_image": sfn.JsonPath.object_at("$.request.source_image"),
        "mask_image": sfn.JsonPath.object_at("$.request.mask_image"),
    }


def _rewrite(mode: str) -> sfn.TaskInput:
    return _payload(
        mode=mode,
        image_mode=sfn.JsonPath.string_at("$.request.mode"),
        strength=sfn.JsonPath.number_at("$.loop.strength"),
        revision=sfn.JsonPath.number_at("$.loop.revision"),
        requirement=sfn.JsonPath.string_at("$.request.prompt"),
        prompt=sfn.JsonPath.string_at("$.loop.prompt"),
        negative_prompt=sfn.JsonPath.string_at("$.loop.negative_prompt"),
        generator=sfn.JsonPath.object_at("$.request.generator"),
        reviser=sfn.JsonPath.object_at("$.request.reviser"),
    )


class ImageLoopDefinition(Construct):
    """Builds the chain; `start` is the first state for the state machine."""

    def __init__(
        self, scope: Construct, id: str, functions: LoopFunctions, retry: RetryPolicy, entry: LoopEntry = STANDALONE
    ) -> None:
        super().__init__(scope, id)
        self.entry = entry
        task = partial(lambda_task, self, retry)

        execution = {"id": sfn.JsonPath.execution_id, "name": sfn.JsonPath.string_at(entry.name)}
        if entry.started_at is not None:
            execution["started_at"] = sfn.JsonPath.string_at(entry.started_at)
        check_input = task(
            "Check input",
            functions.save,
            sfn.TaskInput.from_object(
                {
                    "action": "open",
                    "request": sfn.JsonPath.object_at(entry.request),
                    "execution": execution,
                }
            ),
            "$",
            Opened,
        )
        explain_rejection = explained(self, "Explain rejected input")
        rejected = self._failed("Input rejected", error="InvalidInput", cause_path="$.detail.errorMessage")
        check_input.add_catch(explain_rejection.next(rejected), errors=["InvalidInput"], result_path="$")
        unrecorded = self._unrecorded_failure()
        check_input.add_catch(unrecorded, errors=["States.ALL"], result_path="$")

        start = self._loop_pass("Start with the original prompt", 0, "$.request")
        use_translation = self._loop_pass("Use the translation", 0, "$.proposal")
        use_revision = self._loop_pass(
            "Use the revised prompt", sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.loop.revision"), 1), "$.proposal"
        )

        # One attempt: every candidate is generated, filed and judged in parallel.
        prompts = {
            "prompt": sfn.JsonPath.string_at("$.loop.prompt"),
            "negative_prompt": sfn.JsonPath.string_at("$.loop.negative_prompt"),
        }
        generate = task(
            "Generate image",
            functions.generate,
            _slot(
                **prompts,
                **_edit(),
                prompt_template=sfn.JsonPath.string_at("$.request.prompt_template"),
                generator=sfn.JsonPath.object_at("$.request.generator"),
                strength=sfn.JsonPath.number_at("$.loop.strength"),
                search_prompt=sfn.JsonPath.string_at("$.request.search_prompt"),
                outpaint=sfn.JsonPath.object_at("$.request.outpaint"),
            ),
            "$.generation",
            Generated,
        )
        record = task(
            "Save image",
            functions.save,
            _slot(
                action="record",
                generation=sfn.JsonPath.object_at("$.generation"),
                strength=sfn.JsonPath.number_at("$.loop.strength"),
                **prompts,
            ),
            "$.record",
            Recorded,
        )
        # Validate answers with the candidate's result, the iteration's output as the tally reads it; a
        # refused generation it answers itself, from the refusal, without a judge.
        validate = task(
            "Validate image",
            functions.validate,
            _slot(
                **_edit(),
                key=sfn.JsonPath.string_at("$.record.key"),
                refusal=sfn.JsonPath.string_at("$.generation.refusal"),
                requirement=sfn.JsonPath.string_at("$.request.prompt"),
                prompt=sfn.JsonPath.string_at("$.loop.prompt"),
                validate_against=sfn.JsonPath.string_at("$.request.validate_against"),
                validator=sfn.JsonPath.object_at("$.request.validator"),
            ),
            "$",
            CandidateResult,
        )
        candidates = sfn.Map(
            self,
            "Make candidates",
            items_path="$.loop.candidates",
            # The attempt is counted here, for the iterations, and the tally carries the count on: no
            # Pass state per attempt (each costs a transition and two history events).
            item_selector={
                "request": sfn.JsonPath.object_at("$.request"),
                "run": sfn.JsonPath.object_at("$.run"),
                "loop": {
                    "revision": sfn.JsonPath.number_at("$.loop.revision"),
                    "attempt": sfn.JsonPath.math_add(sfn.JsonPath.number_at("$.loop.tally.attempt"), 1),
                    "prompt": sfn.JsonPath.string_at("$.loop.prompt"),
                    "negative_prompt": sfn.JsonPath.string_at("$.loop.negative_prompt"),
                    "strength": sfn.JsonPath.number_at("$.loop.strength"),
                },
                "candidate": sfn.JsonPath.number_at("$$.Map.Item.Value"),
            },
            max_concurrency=MAX_CANDIDATES,
            # CDK's array_contains helper cannot render a boolean literal, so the intrinsic is spelled out.
            result_selector={
                "attempt.$": "States.ArrayGetItem($[*].attempt, 0)",
                "accepted.$": "States.ArrayContains($[*].passed, true)",
                "candidates.$": "$",
            },
            result_path="$.loop.tally",
        )
        candidates.item_processor(generate.next(record).next(validate))

        translate = task("Translate prompt", functions.revise, _rewrite("translate"), "$.proposal", Proposal)
        revise = task("Revise prompt", functions.revise, _rewrite("revise"), "$.proposal", Proposal)
        report_success = task(
            "Report success",
            functions.save,
            _payload(
                action="succeeded",
                revision=sfn.JsonPath.number_at("$.loop.revision"),
                attempt=sfn.JsonPath.number_at("$.loop.tally.attempt"),
            ),
            "$",
            Success,
        )
        report_not_met = task(
            "Report requirements not met",
            functions.save,
            _payload(action="requirements_not_met"),
            "$.closing",
            NotMet,
        )
        not_met = self._failed(
            "Requirements not met", error="RequirementsNotMet", cause_path="$.closing.cause", run_path="$.run"
        )
        # Any other error that outlived its retries: close the run (file every image, record the error)
        # and fail with the error's own name and a cause without the stack trace.
        report_failure_task = task(
            "Report failure",
            functions.save,
            _payload(
                action="failed",
                error=sfn.JsonPath.string_at("$.failure.Error"),
                cause=sfn.JsonPath.string_at("$.failure.Cause"),
            ),
            "$.closing",
            Failed,
        )
        report_failure = report_failure_task.next(
            self._failed("Run failed", error_path="$.closing.error", cause_path="$.closing.cause", run_path="$.run")
        )
        for closing in (report_failure_task, report_not_met):
            closing.add_catch(unrecorded, errors=["States.ALL"], result_path="$")
        for step in (candidates, translate, revise, report_success):
            step.add_catch(report_failure, errors=["States.ALL"], result_path="$.failure")

        # One decision after each attempt, its rules in order: a pass ends the run; else another attempt
        # at this prompt; else a revised prompt; else the budget is used up.
        after_attempt = (
            sfn.Choice(self, "Accepted, try again or revise?")
            .when(sfn.Condition.boolean_equals("$.loop.tally.accepted", True), report_success.next(self._succeeded()))
            .when(
                sfn.Condition.number_less_than_json_path("$.loop.tally.attempt", "$.request.max_retry_attempts"),
                candidates,
            )
            .when(
                sfn.Condition.number_less_than_json_path("$.loop.revision", "$.request.max_prompt_revisions"),
                revise.next(use_revision).next(candidates),
            )
            .otherwise(report_not_met.next(not_met))
        )
        translate_first = (
            sfn.Choice(self, "Translate first?")
            .when(
                sfn.Condition.boolean_equals("$.request.translate", True),
                translate.next(use_translation).next(candidates),
            )
            .otherwise(candidates)
        )
        candidates.next(after_attempt)
        self.start = check_input.next(start).next(translate_first)

    def _unrecorded_failure(self) -> sfn.Choice:
        """An error outside the run's record (before it opened, or while closing it): fail with the
        error's name and its message, never the Lambda error's JSON with its stack trace."""
        failed = self._failed("Run failed unrecorded", error_path="$.Error", cause_path="$.detail.errorMessage")
        names = MessageStates("Is the cause a function's error?", "Read the error message", "Keep the cause")
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

    def _loop_pass(self, name: str, revision: Any, prompts_from: str) -> sfn.Pass:
        """Set the prompt, its revision number and the candidates to make in `$.loop`, with no attempt
        made at it yet: the Map counts the attempts in `$.loop.tally`, these passes start them anew."""
        return sfn.Pass(
            self,
            name,
            parameters={
                "revision": revision,
                "tally": {"attempt": 0},
                "prompt": sfn.JsonPath.string_at(f"{prompts_from}.prompt"),
                "negative_prompt": sfn.JsonPath.string_at(f"{prompts_from}.negative_prompt"),
                "strength": sfn.JsonPath.number_at(f"{prompts_from}.strength"),
                "candidates": sfn.JsonPath.array_range(1, sfn.JsonPath.number_at("$.request.candidates"), 1),
            },
            result_path="$.loop",
        )

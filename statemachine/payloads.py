"""What the state machine hands each function: one payload per task model of `common.tasks`, each field
taken from the state by path.

Every payload is checked against its model while the definition is built (its keys are exactly the
model's fields), as the result selectors are made from the result models: a field added to a model
and not to its payload, or the other way round, fails the synthesis rather than a run.
"""

from typing import Any

from aws_cdk import aws_stepfunctions as sfn
from pydantic import BaseModel

from common.batches import ExecutionRef
from common.request import RunRequest
from common.tasks import (
    CloseBatch,
    CloseFailed,
    CloseNotMet,
    CloseSucceeded,
    Edit,
    ExecutionStart,
    GenerateTask,
    LoopPrompt,
    OpenBatch,
    OpenRun,
    RecordItem,
    RecordTask,
    RewriteTask,
    Slot,
    ValidateTask,
)


def fields_of(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """The fields of an object the model reads, each one of them and no other; a field given as None is
    left out, for the model's default."""
    given, expected = set(fields), set(model.model_fields)
    if given != expected:
        raise ValueError(
            f"the payload for {model.__name__} is not its fields: "
            f"{sorted(given - expected)} not in the model, {sorted(expected - given)} not given"
        )
    required = [name for name, value in fields.items() if value is None and model.model_fields[name].is_required()]
    if required:
        raise ValueError(f"the payload for {model.__name__} leaves out required fields: {required}")
    return {name: value for name, value in fields.items() if value is not None}


def _payload(model: type[BaseModel], **fields: Any) -> sfn.TaskInput:
    return sfn.TaskInput.from_object(fields_of(model, **fields))


def _request(*fields: str) -> dict[str, Any]:
    """Fields the task takes as the checked request has them, under the same names."""
    unknown = set(fields) - set(RunRequest.model_fields)
    if unknown:
        raise ValueError(f"not fields of the request: {sorted(unknown)}")
    return {field: sfn.JsonPath.object_at(f"$.request.{field}") for field in fields}


def _run() -> dict[str, Any]:
    return {"run": sfn.JsonPath.object_at("$.run")}


def _slot() -> dict[str, Any]:
    """Where an image sits in the loop: its run, prompt revision and attempt, and its candidate in the Map."""
    return fields_of(
        Slot,
        **_run(),
        revision=sfn.JsonPath.number_at("$.loop.revision"),
        attempt=sfn.JsonPath.number_at("$.loop.attempt"),
        candidate=sfn.JsonPath.number_at("$.candidate"),
        **_request("candidates"),
    )


def loop_prompt_at(path: str) -> dict[str, Any]:
    """The loop's prompt as the object at the path holds it: `$.loop` keeps it in these fields, which the
    tasks that draw, file or rewrite an image take."""
    return {field: sfn.JsonPath.object_at(f"{path}.{field}") for field in LoopPrompt.model_fields}


def _edit() -> dict[str, Any]:
    return _request(*Edit.model_fields)


def open_run(request: str, name: str, started_at: str | None) -> sfn.TaskInput:
    execution = fields_of(
        ExecutionStart,
        id=sfn.JsonPath.execution_id,
        name=sfn.JsonPath.string_at(name),
        started_at=None if started_at is None else sfn.JsonPath.string_at(started_at),
    )
    return _payload(OpenRun, action="open", request=sfn.JsonPath.object_at(request), execution=execution)


def generate() -> sfn.TaskInput:
    return _payload(
        GenerateTask,
        **_slot(),
        **loop_prompt_at("$.loop"),
        edit=_edit(),
        **_request("prompt_template", "generator", "search_prompt", "outpaint"),
    )


def record() -> sfn.TaskInput:
    return _payload(
        RecordTask,
        **_slot(),
        **loop_prompt_at("$.loop"),
        action="record",
        generation=sfn.JsonPath.object_at("$.generation"),
        prompt_usd_micro=sfn.JsonPath.number_at("$.loop.prompt_usd_micro"),
    )


def validate() -> sfn.TaskInput:
    return _payload(
        ValidateTask,
        **_slot(),
        edit=_edit(),
        key=sfn.JsonPath.string_at("$.record.key"),
        refusal=sfn.JsonPath.string_at("$.generation.refusal"),
        requirement=sfn.JsonPath.string_at("$.request.prompt"),
        prompt=sfn.JsonPath.string_at("$.loop.prompt"),
        **_request("validate_against", "validator"),
        image_usd_micro=sfn.JsonPath.number_at("$.generation.usd_micro"),
        spent_usd_micro=sfn.JsonPath.number_at("$.loop.spent_usd_micro"),
    )


def rewrite(mode: str) -> sfn.TaskInput:
    return _payload(
        RewriteTask,
        **_run(),
        **loop_prompt_at("$.loop"),
        mode=mode,
        revision=sfn.JsonPath.number_at("$.loop.revision"),
        requirement=sfn.JsonPath.string_at("$.request.prompt"),
        image_mode=sfn.JsonPath.string_at("$.request.mode"),
        **_request("generator", "reviser"),
    )


def succeeded() -> sfn.TaskInput:
    return _payload(
        CloseSucceeded,
        **_run(),
        action="succeeded",
        revision=sfn.JsonPath.number_at("$.loop.revision"),
        attempt=sfn.JsonPath.number_at("$.loop.tally.attempt"),
    )


def not_met(stopped_by: str) -> sfn.TaskInput:
    return _payload(
        CloseNotMet,
        **_run(),
        action="requirements_not_met",
        stopped_by=stopped_by,
        spent_usd_micro=sfn.JsonPath.number_at("$.loop.tally.spent_usd_micro"),
        budget=sfn.JsonPath.object_at("$.budget"),
        attempt=sfn.JsonPath.number_at("$.loop.tally.attempt"),
        **_request("max_retry_attempts"),
    )


def failed() -> sfn.TaskInput:
    """The error that outlived its retries, caught at `$.failure`."""
    return _payload(
        CloseFailed,
        **_run(),
        action="failed",
        error=sfn.JsonPath.string_at("$.failure.Error"),
        cause=sfn.JsonPath.string_at("$.failure.Cause"),
    )


def open_batch() -> sfn.TaskInput:
    execution = fields_of(ExecutionRef, id=sfn.JsonPath.execution_id, name=sfn.JsonPath.execution_name)
    return _payload(OpenBatch, action="open_batch", request=sfn.JsonPath.entire_payload, execution=execution)


def record_item() -> sfn.TaskInput:
    return _payload(
        RecordItem,
        action="record_item",
        batch=sfn.JsonPath.object_at("$.batch"),
        item=sfn.JsonPath.object_at("$.item"),
        outcome=sfn.JsonPath.object_at("$.ran.outcome"),
    )


def close_batch() -> sfn.TaskInput:
    return _payload(
        CloseBatch, action="close_batch", batch=sfn.JsonPath.object_at("$.batch"), plan=sfn.JsonPath.object_at("$.plan")
    )

"""Save: the run's record keeper. Opens the run (checking the request), files images, closes the run."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from common import clients
from common.observability import logger, tracer
from common.payloads import (
    CloseFailed,
    CloseNotMet,
    CloseSucceeded,
    OpenRun,
    RecordGeneration,
    SaveAction,
    parse_payload,
)
from common.settings import Settings
from common.storage import storage_calls
from save.closing import close_failed, close_not_met, close_succeeded
from save.logic import open_run, record_generation


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_payload(SaveAction, event).root
    s3, settings = clients.s3(), Settings.from_env()
    logger.set_correlation_id(action.execution.id if isinstance(action, OpenRun) else action.run.execution_id)
    result: BaseModel
    with storage_calls():
        match action:
            case OpenRun():
                execution = action.execution
                result = open_run(action.request, execution.id, execution.name, execution.started_at, settings, s3)
            case RecordGeneration():
                result = record_generation(action, action.generation, s3)
            case CloseSucceeded():
                result = close_succeeded(action, action.candidates, settings, s3)
            case CloseNotMet():
                result = close_not_met(action, s3)
            case CloseFailed():
                result = close_failed(action, action.error, action.cause, s3)
    logger.info(f"{action.action} done", extra={"result": result.model_dump(mode="json", exclude={"request"})})
    return result.model_dump(mode="json")

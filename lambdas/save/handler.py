"""Save: the run's record keeper. Opens the run (checking the request), files images, closes the run."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.observability import logger, tracer
from common.payloads import CloseNotMet, CloseSucceeded, OpenRun, RecordGeneration, SaveAction, parse_payload
from common.settings import Settings
from save.logic import close_not_met, close_succeeded, open_run, record_generation


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    action = parse_payload(SaveAction, event).root
    s3, settings = clients.s3(), Settings.from_env()
    match action:
        case OpenRun():
            logger.set_correlation_id(action.execution.id)
            task = open_run(
                action.request, action.execution.id, action.execution.name, action.execution.started_at, settings, s3
            )
            logger.info("run opened", extra={"manifest": task.run.manifest_key})
            return task.model_dump(mode="json")
        case RecordGeneration():
            logger.set_correlation_id(action.run.execution_id)
            record = record_generation(action, action.generation, s3)
            logger.info("generation recorded", extra={"key": record.key, "outcome": action.generation.outcome})
            return record.model_dump()
        case CloseSucceeded():
            logger.set_correlation_id(action.run.execution_id)
            return close_succeeded(action, action.candidates, settings, s3).model_dump()
        case CloseNotMet():
            logger.set_correlation_id(action.run.execution_id)
            return close_not_met(action, s3).model_dump()
    raise AssertionError("unreachable: SaveAction is a closed union")

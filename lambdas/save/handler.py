"""Save: the record keeper. Opens a run (checking the request), files images, closes the run; and
for a batch, reads its items, files each item's outcome and writes the batch manifest."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from common import clients
from common.observability import logger, metrics
from common.settings import current
from common.storage import storage_calls
from common.tasks import (
    CloseBatch,
    CloseFailed,
    CloseNotMet,
    CloseSucceeded,
    OpenBatch,
    OpenRun,
    RecordItem,
    RecordTask,
    SaveAction,
    SaveTask,
    parse_payload,
)
from save.batch import close_batch, open_batch, record_item
from save.closing import close_failed, close_not_met, close_succeeded
from save.logic import open_run, record_generation


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    settings = current()
    task = parse_payload(SaveTask, event, settings).root
    s3 = clients.s3()
    logger.set_correlation_id(_execution_id(task))
    result: BaseModel
    with storage_calls():
        match task:
            case OpenRun():
                result = open_run(task.request, task.execution, settings, s3)
            case RecordTask():
                result = record_generation(task, s3)
            case CloseSucceeded():
                result = close_succeeded(task, settings, s3)
                # Only this action has a metric (attempts to acceptance): no empty flush on the others.
                metrics.flush_metrics()
            case CloseNotMet():
                result = close_not_met(task, s3)
            case CloseFailed():
                result = close_failed(task.run, task.error, task.cause, s3)
            case OpenBatch():
                result = open_batch(task.request, task.execution, settings, s3, clients.service_quotas())
            case RecordItem():
                result = record_item(task, s3)
            case CloseBatch():
                result = close_batch(task.batch, task.plan, s3)
    logger.info(f"{task.action} done", extra={"result": result.model_dump(mode="json", exclude={"request"})})
    return result.model_dump(mode="json")


def _execution_id(task: SaveAction) -> str:
    match task:
        case OpenRun() | OpenBatch():
            return task.execution.id
        case RecordItem() | CloseBatch():
            return task.batch.execution.id
        case _:
            return task.run.execution_id

"""Revise prompt: a text model rewrites the prompt for the image model (or translates it before the first try)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.metering import record, spent
from common.names import MetricNames
from common.observability import logger, metrics
from common.settings import current
from common.storage import storage_calls
from common.tasks import RewriteTask, parse_payload
from revise.logic import revise, translate


@logger.inject_lambda_context(correlation_id_path="run.execution_id")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_payload(RewriteTask, event, current())
    if task.mode == "translate":
        proposal = translate(task, clients.bedrock())
    else:
        with storage_calls():
            proposal = revise(task, clients.bedrock(), clients.s3())
        record(MetricNames.REVISED, task.reviser.model_id, task.mode)
    spent(task.reviser.model_id, task.mode, proposal.usd_micro)
    logger.info(f"prompt {task.mode}d", extra=proposal.model_dump())
    return proposal.model_dump()

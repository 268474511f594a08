"""Generate image: one call to the image model; the image goes to S3, only its key to the state."""

import random
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.metering import record, spent
from common.names import MetricNames
from common.observability import logger, metrics
from common.settings import current
from common.storage import storage_calls
from common.tasks import GenerateTask, parse_payload
from generate.logic import generate

_rng = random.SystemRandom()


@logger.inject_lambda_context(correlation_id_path="run.execution_id")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_payload(GenerateTask, event, current())
    logger.append_keys(revision=task.revision, attempt=task.attempt, candidate=task.candidate)
    with storage_calls():
        result = generate(task, clients.bedrock(), clients.s3(), _rng)
    record(MetricNames.GENERATED if result.outcome == "image" else MetricNames.REFUSED, result.model_id, "image")
    spent(result.model_id, "image", result.usd_micro)
    logger.info("generation finished", extra=result.model_dump())
    return result.model_dump()

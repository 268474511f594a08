"""Validate image: a vision model judges the image against the requirement."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.metering import record, spent
from common.names import MetricNames
from common.observability import logger, metrics
from common.settings import current
from common.storage import storage_calls
from common.tasks import ValidateTask, parse_payload
from validate.logic import validate


@logger.inject_lambda_context(correlation_id_path="run.execution_id")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_payload(ValidateTask, event, current())
    logger.append_keys(revision=task.revision, attempt=task.attempt, candidate=task.candidate)
    with storage_calls():
        result = validate(task, clients.bedrock(), clients.s3())
    judge = task.validator.model_id
    if result.key is not None:  # a refusal was counted by Generate
        record(MetricNames.ACCEPTED if result.passed else MetricNames.REJECTED, judge, "judge")
    spent(judge, "judge", result.judge_usd_micro)
    logger.info("verdict", extra=result.model_dump())
    return result.model_dump()

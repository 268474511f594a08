"""Revise prompt: a text model rewrites the requirement for the image model, given why images failed."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.observability import logger, metrics, tracer
from common.payloads import Attempt, parse_payload
from revise.logic import revise


@logger.inject_lambda_context(correlation_id_path="run.execution_id")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_payload(Attempt, event)
    proposal = revise(task, clients.bedrock(), clients.s3())
    metrics.add_metric(name="PromptRevised", unit=MetricUnit.Count, value=1)
    logger.info("prompt revised", extra=proposal.model_dump())
    return proposal.model_dump()

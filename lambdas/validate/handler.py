"""Validate image: a vision model judges the image against the requirement."""

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import model_validator

from common import clients
from common.observability import logger, metrics, tracer
from common.payloads import CandidateAttempt, parse_payload
from common.storage import storage_calls
from validate.logic import validate


class ValidateTask(CandidateAttempt):
    key: str

    @model_validator(mode="after")
    def _own_image(self) -> "ValidateTask":
        if not self.owns(self.key, self.candidate):
            raise ValueError("key: must be this attempt's own image")
        return self


@logger.inject_lambda_context(correlation_id_path="run.execution_id")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = parse_payload(ValidateTask, event)
    logger.append_keys(revision=task.revision, attempt=task.attempt, candidate=task.candidate)
    with storage_calls():
        verdict = validate(task, task.key, clients.bedrock(), clients.s3())
    metrics.add_metric(name="ImageAccepted" if verdict.passed else "ImageRejected", unit=MetricUnit.Count, value=1)
    logger.info("verdict", extra=verdict.model_dump())
    return verdict.model_dump()

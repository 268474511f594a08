"""Status: answers `GET /generations/{id}` with the run's status, result and a short-lived image URL."""

import json
import os
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.errors import InvalidInput
from common.observability import logger, tracer
from status.logic import describe


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    name = str((event.get("pathParameters") or {}).get("id", ""))
    try:
        generation = describe(name, os.environ["STATE_MACHINE_ARN"], clients.stepfunctions(), clients.s3())
    except InvalidInput as error:
        return _answer(400, {"message": str(error)})
    if generation is None:
        return _answer(404, {"message": f"no generation with id {name}"})
    return _answer(200, generation.model_dump(exclude_none=True))

"""Status: answers `GET /generations/{id}` with the run's status, result and a short-lived image URL."""

import os
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from common import clients
from common.errors import InvalidInput
from common.observability import logger, tracer
from status.logic import describe

app = APIGatewayRestResolver()


def _message(status: int, text: str) -> Response[dict[str, str]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": text})


@app.get("/generations/<name>")
def get_generation(name: str) -> dict[str, Any] | Response[dict[str, str]]:
    try:
        generation = describe(name, os.environ["STATE_MACHINE_ARN"], clients.stepfunctions(), clients.s3())
    except InvalidInput as error:
        return _message(400, str(error))
    if generation is None:
        return _message(404, f"no generation with id {name}")
    return generation.model_dump(exclude_none=True)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

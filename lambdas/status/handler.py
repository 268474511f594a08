"""Status: answers `GET /generations/{id}` with the run's status, result and a short-lived image URL,
`GET /batches/{id}` with a batch's progress or summary, and `POST /uploads` with a short-lived URL to
send an image to edit (or a batch's items) to."""

import os
from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.config import Config

from common import clients
from common.errors import InvalidInput
from common.observability import logger
from status.batches import describe_batch, read_query
from status.logic import describe
from status.uploads import new_upload

app = APIGatewayRestResolver()


@cache
def presigner() -> Any:
    """An S3 client whose URLs name the bucket's regional endpoint. botocore presigns for the global one,
    which S3 may answer with a redirect for a day after a bucket outside us-east-1 is made, and a
    redirect changes the signed host."""
    return boto3.client(
        "s3",
        endpoint_url=clients.s3().meta.endpoint_url,
        config=Config(signature_version="s3v4", s3={"addressing_style": "virtual"}),
    )


def _message(status: int, text: str) -> Response[dict[str, str]]:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"message": text})


@app.exception_handler(InvalidInput)  # type: ignore[untyped-decorator]  # Powertools leaves its return type out
def invalid_input(error: InvalidInput) -> Response[dict[str, str]]:
    return _message(400, str(error))


@app.get("/generations/<name>")
def get_generation(name: str) -> dict[str, Any] | Response[dict[str, str]]:
    generation = describe(name, os.environ["STATE_MACHINE_ARN"], clients.stepfunctions(), presigner())
    if generation is None:
        return _message(404, f"no generation with id {name}")
    return generation.model_dump(exclude_none=True)


@app.get("/batches/<name>")
def get_batch(name: str) -> dict[str, Any] | Response[dict[str, str]]:
    query = read_query(app.current_event.query_string_parameters)
    batch = describe_batch(name, os.environ["BATCH_STATE_MACHINE_ARN"], query, clients.stepfunctions(), presigner())
    if batch is None:
        return _message(404, f"no batch with id {name}")
    return batch.model_dump(exclude_none=True)


@app.post("/uploads")
def post_upload() -> Response[dict[str, Any]]:
    upload = new_upload(app.current_event.body, os.environ["OUTPUT_BUCKET"], os.environ["UPLOADS_PREFIX"], presigner())
    return Response(status_code=201, content_type=content_types.APPLICATION_JSON, body=upload.model_dump())


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

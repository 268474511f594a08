"""What `GET /generations/{id}` answers: the execution's status and, once done, its result."""

import json
import re
from typing import Any

from botocore.exceptions import ClientError

from common.errors import InvalidInput
from common.keys import EXECUTION_NAME_PATTERN, EXECUTION_NAME_RULE
from common.model import Model

_NAME = re.compile(EXECUTION_NAME_PATTERN)
URL_SECONDS = 900


class ExecutionStatus(Model):
    """What every GET of an execution answers, a generation's or a batch's."""

    id: str
    execution_arn: str
    status: str
    started_at: str
    stopped_at: str | None = None
    error: str | None = None
    cause: str | None = None


class Generation(ExecutionStatus):
    output: dict[str, Any] | None = None
    image_url: str | None = None


def execution_arn(state_machine_arn: str, name: str) -> str:
    if not _NAME.match(name):
        raise InvalidInput(f"id: must be {EXECUTION_NAME_RULE} (the execution name)")
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def find_execution(name: str, state_machine_arn: str, sfn: Any) -> tuple[ExecutionStatus, dict[str, Any]] | None:
    """The execution's status and Step Functions' whole description of it; None when there is none."""
    arn = execution_arn(state_machine_arn, name)
    try:
        found: dict[str, Any] = sfn.describe_execution(executionArn=arn)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ExecutionDoesNotExist":
            return None
        raise
    status = ExecutionStatus(
        id=name,
        execution_arn=arn,
        status=found["status"],
        started_at=found["startDate"].isoformat(),
        stopped_at=found["stopDate"].isoformat() if found.get("stopDate") else None,
        error=found.get("error"),
        cause=found.get("cause"),
    )
    return status, found


def describe(name: str, state_machine_arn: str, sfn: Any, s3: Any) -> Generation | None:
    """None when there is no such execution."""
    execution = find_execution(name, state_machine_arn, sfn)
    if execution is None:
        return None
    status, found = execution
    generation = Generation(**status.model_dump())
    if found["status"] == "SUCCEEDED" and found.get("output"):
        output = json.loads(found["output"])
        generation.output = output
        generation.image_url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": output["bucket"], "Key": output["key"]}, ExpiresIn=URL_SECONDS
        )
    return generation

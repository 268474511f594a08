"""Turn Bedrock client failures into the named errors the state machine retries or reports."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

from common.catalogue import successor_note
from common.errors import (
    ModelRequestRejected,
    ModelServiceError,
    ModelThrottled,
    ModelTimeout,
    ModelUnavailable,
)

_THROTTLED = {"ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException"}
_SERVICE = {
    "InternalServerException",
    "ServiceUnavailableException",
    "ModelNotReadyException",
    "ModelErrorException",
}
_UNAVAILABLE = {"ResourceNotFoundException", "AccessDeniedException"}
# How Bedrock words a ValidationException about the model itself rather than the request.
_MODEL_GONE = re.compile(
    r"model identifier is invalid|end of (its )?life|reached (its )?end|no longer (available|supported)|"
    r"on-demand throughput|legacy|access to the model|not have access|isn't supported|is not supported in",
    re.IGNORECASE,
)
# How image models word a refusal to draw a prompt (language, content filters).
_REFUSAL = re.compile(
    r"english|language|filter|content polic|moderation|blocked|prohibited|safety|inappropriate|not allowed",
    re.IGNORECASE,
)


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def error_message(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Message", ""))


def is_refusal(error: ClientError) -> bool:
    """A prompt the image model will not draw: a failed attempt, not a failed run."""
    return error_code(error) == "ValidationException" and bool(_REFUSAL.search(error_message(error)))


@contextmanager
def model_call(model_id: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        message = f"{model_id}: {code}: {error_message(error)}"
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in _THROTTLED:
            raise ModelThrottled(message) from error
        if code == "ModelTimeoutException":
            raise ModelTimeout(message) from error
        if code in _SERVICE or status >= 500:
            raise ModelServiceError(message) from error
        if code in _UNAVAILABLE or (code == "ValidationException" and _MODEL_GONE.search(message)):
            raise ModelUnavailable(
                f"{message} (check that the model id is right, served in this region, not retired, "
                f"and that model access is enabled for this account){successor_note(model_id)}"
            ) from error
        raise ModelRequestRejected(message) from error
    except ReadTimeoutError as error:
        raise ModelTimeout(f"{model_id}: no answer before the read timeout") from error
    except ConnectionError as error:
        raise ModelServiceError(f"{model_id}: connection failed: {error}") from error

"""Turn Bedrock client failures into the named errors the state machine retries or reports."""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import ClientError, ConnectionError, ReadTimeoutError

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


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


@contextmanager
def model_call(model_id: str) -> Iterator[None]:
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        message = f"{model_id}: {code}: {error.response.get('Error', {}).get('Message', '')}"
        if code in _THROTTLED:
            raise ModelThrottled(message) from error
        if code == "ModelTimeoutException":
            raise ModelTimeout(message) from error
        if code in _SERVICE:
            raise ModelServiceError(message) from error
        if code in _UNAVAILABLE:
            raise ModelUnavailable(
                f"{message} (check that the model id is right, served in this region, not retired, "
                "and that model access is enabled for this account)"
            ) from error
        raise ModelRequestRejected(message) from error
    except ReadTimeoutError as error:
        raise ModelTimeout(f"{model_id}: no answer before the read timeout") from error
    except ConnectionError as error:
        raise ModelServiceError(f"{model_id}: connection failed: {error}") from error

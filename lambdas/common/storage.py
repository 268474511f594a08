"""Name S3's failures: whatever the SDK's own retries could not absorb leaves a handler as one of these."""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from common.errors import StorageError, StorageUnavailable

_BUSY = {"SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout"}


@contextmanager
def storage_calls() -> Iterator[None]:
    """Around a handler's work: Bedrock's errors are already named, so a ClientError left is S3's."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", ""))
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        message = f"S3 {error.operation_name}: {code}: {error.response.get('Error', {}).get('Message', '')}"
        if code in _BUSY or status >= 500:
            raise StorageUnavailable(message) from error
        raise StorageError(message) from error
    except BotoCoreError as error:
        raise StorageUnavailable(f"S3: {error}") from error

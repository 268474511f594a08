"""Named errors: each class name is the error name Step Functions Retry and Catch match."""

MAX_SHOWN = 60


def shown(value: object) -> str:
    """A value as an error message may repeat it: never longer than a line."""
    text = str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 3] + "..."


# A Fail state whose error is a Step Functions name (States.Timeout, ...) ends the execution as States.Runtime
# and loses its cause (moto and LocalStack; docs/conformance.md): such a caught error is reported under this
# project's own name, the original leading its cause.
STATES_PREFIX = "States."
OWN_PREFIX = "Workflow"


def own_name(error: str) -> str:
    """The name a run ends with for a caught error: a Step Functions error's "States." becomes "Workflow"."""
    return OWN_PREFIX + error.removeprefix(STATES_PREFIX) if error.startswith(STATES_PREFIX) else error


class WorkflowError(Exception):
    """Base class; never raised itself."""


class InvalidInput(WorkflowError):
    """The request (or a task payload) breaks a rule; the message names the field and the rule."""


class ModelThrottled(WorkflowError):
    """Bedrock throttled the call or a quota was hit; the state machine retries it."""


class ModelTimeout(WorkflowError):
    """The model did not answer in time; the state machine retries it."""


class ModelServiceError(WorkflowError):
    """Bedrock answered with a 5xx or was not ready; the state machine retries it."""


class ModelUnavailable(WorkflowError):
    """The model id is unknown, retired, not enabled or not allowed for this account."""


class ModelRequestRejected(WorkflowError):
    """Bedrock rejected a request that passed our own checks; retrying would not help."""


class ManifestConflict(WorkflowError):
    """The manifest kept changing under us; the state machine retries the task."""


class ImageMissing(WorkflowError):
    """An image the state names is not in S3 (it was deleted while the run went on)."""


class StorageUnavailable(WorkflowError):
    """S3 kept answering 5xx or SlowDown after the SDK's own retries; the state machine retries it."""


class StorageError(WorkflowError):
    """S3 refused a request for good (access denied, a missing bucket)."""

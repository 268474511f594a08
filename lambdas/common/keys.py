"""S3 keys of a run, built only from validated parts so no key can escape the run's folder."""

import re
from dataclasses import dataclass

from common.errors import InvalidInput
from common.names import MANIFEST_FILE

STAGING_PREFIX = "_staging"
# The one rule for execution names (and so idempotency keys and run folders): Step Functions allows
# more, but a name also names an S3 folder, so it starts with a letter or digit.
EXECUTION_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$"
EXECUTION_NAME_RULE = "1-80 letters, digits, '-' or '_', starting with a letter or digit"
_NAME = re.compile(EXECUTION_NAME_PATTERN)


@dataclass(frozen=True)
class RunKeys:
    prefix: str
    execution_name: str

    def __post_init__(self) -> None:
        if not _NAME.match(self.execution_name):
            raise InvalidInput(f"execution name: must be {EXECUTION_NAME_RULE}, since it names the run's folder")

    @property
    def folder(self) -> str:
        return f"{self.prefix}/{self.execution_name}"

    @property
    def manifest(self) -> str:
        return f"{self.folder}/{MANIFEST_FILE}"

    def image(self, revision: int, attempt: int, extension: str, candidate: int | None = None) -> str:
        return f"{self.folder}/{_name(revision, attempt, candidate)}.{extension}"

    def staging(self, revision: int, attempt: int, extension: str, candidate: int | None = None) -> str:
        # Under one top-level prefix (no request prefix can start with '_') so a single lifecycle
        # rule expires whatever a failed Save left behind.
        return f"{STAGING_PREFIX}/{self.folder}/{_name(revision, attempt, candidate)}.{extension}"


_IMAGE_NAME = re.compile(r"^r\d{2}-a\d{2}(-c\d)?\.(png|jpg)$")


def is_image_name(name: str) -> bool:
    """Whether a file name is one `RunKeys` gives an image (rNN-aNN[-cN].png or .jpg)."""
    return _IMAGE_NAME.match(name) is not None


def _name(revision: int, attempt: int, candidate: int | None) -> str:
    suffix = f"-c{candidate}" if candidate is not None else ""
    return f"r{revision:02d}-a{attempt:02d}{suffix}"

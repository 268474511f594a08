"""What `imgloop batch` starts a batch with: the items file and the defaults, checked before anything is
sent, and the batch state machine's input, which names where the file was put.

The file is read with the workflow's own parser, so a file it would refuse as a whole (not UTF-8, no
items, a CSV without a `prompt` column) is refused here, before anything runs. So are defaults that no item
could run with (they are checked as the functions check a request), and a line whose request could never
reach the functions (larger than a Step Functions state may hold, or a prompt longer than a run takes). Any
other line the workflow cannot read or run is the workflow's business: that item ends as InvalidInput, with
its line number."""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, get_args

from pydantic import TypeAdapter, ValidationError

from common.batch_input import ReadItem, merged, read_items
from common.batches import (
    BATCH_NAME_PATTERN,
    BATCH_NAME_RULE,
    EXTENSIONS,
    MAX_INPUT_BYTES,
    BatchKeys,
    Concurrency,
    Format,
    format_of,
)
from common.errors import InvalidInput
from common.names import MAX_BATCH_CONCURRENCY
from common.request import MAX_PROMPT_CHARS, read_request
from imgloop.errors import UsageError
from imgloop.runs.executions import new_name, start

# The forms --format names, as the workflow's `format` spells them.
FORMS: dict[str, Format] = {form: form for form in get_args(Format)}
# The most an item's request may be, as JSON. A Step Functions state holds at most 256 KB, and the request
# travels in the batch's item beside the item's details, then in the run's state beside the loop's own; a
# larger item fails as ItemNotRecorded instead of running. A quarter of it leaves room for both.
MAX_REQUEST_BYTES = 64 * 1024
# What the defaults are checked with when the items are left out.
_SOME_PROMPT = {"prompt": "a lighthouse"}


@dataclass(frozen=True)
class BatchSource:
    name: str
    form: Format
    data: bytes
    defaults: dict[str, Any] | None
    concurrency: int | None
    max_cost_usd: float | None = None  # the whole batch's cap (--max-cost)

    @property
    def key(self) -> str:
        """Where the file goes in the stack's bucket; its extension tells the workflow its form."""
        return BatchKeys(self.name).input(self.form)

    def request(self, bucket: str) -> dict[str, Any]:
        """The batch state machine's input."""
        request: dict[str, Any] = {"batch": self.name, "input": f"s3://{bucket}/{self.key}"}
        if self.defaults is not None:
            request["defaults"] = self.defaults
        if self.concurrency is not None:
            request["concurrency"] = self.concurrency
        if self.max_cost_usd is not None:
            request["max_cost_usd"] = self.max_cost_usd
        return request


def read_source(
    path: Path, form: str | None, defaults: Path | None, name: str | None, concurrency: int | None
) -> BatchSource:
    """The batch the options describe, or a UsageError naming the option and what is wrong with it."""
    if name is not None and not re.match(BATCH_NAME_PATTERN, name):
        raise UsageError(f"--name {name!r}: must be {BATCH_NAME_RULE}")
    if concurrency is not None:
        try:
            TypeAdapter(Concurrency).validate_python(concurrency)
        except ValidationError:
            raise UsageError(f"--concurrency {concurrency}: must be 1 to {MAX_BATCH_CONCURRENCY}") from None
    found = _form(path, form)
    data = _read(path)
    try:
        items = read_items(data, found)
    except InvalidInput as error:
        raise UsageError(f"{path}: {str(error).removeprefix('input: ')}") from None
    given = _defaults(defaults)
    if given is not None and defaults is not None:
        _check_defaults(defaults, given, items)
    for item in items:
        _check_size(path, item, given or {})
    return BatchSource(name or new_name(), found, data, given, concurrency)


def _form(path: Path, given: str | None) -> Format:
    if given is not None:
        if given not in FORMS:
            raise UsageError(f"--format {given!r}: must be one of {', '.join(FORMS)}")
        return FORMS[given]
    found = format_of(path.name)
    if found is None:
        extensions = ", ".join(EXTENSIONS)
        raise UsageError(
            f"{path}: its extension does not say how the items are written ({extensions}): "
            f"give --format {'|'.join(FORMS)}"
        )
    return found


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror or error}") from None
    if len(data) > MAX_INPUT_BYTES:
        raise UsageError(f"{path}: larger than {MAX_INPUT_BYTES // 2**20} MiB, the most a batch's file may be")
    return data


def _defaults(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        # A byte-order mark, which some editors write at the start of UTF-8, is not part of the JSON.
        value = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read --defaults {path}: {error}") from None
    if not isinstance(value, dict):
        raise UsageError(f"--defaults {path}: must be a JSON object of request fields")
    return value


def _request(defaults: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The request an item's run gets, as the batch's first step builds it (lambdas/save/batch.py)."""
    return merged(defaults, {k: v for k, v in item.items() if k != "id"})


def _refusal(request: dict[str, Any]) -> str | None:
    from imgloop.settings import deployment_settings

    try:
        read_request(request, deployment_settings())
    except InvalidInput as error:
        return str(error)
    return None


def _check_defaults(path: Path, defaults: dict[str, Any], items: list[ReadItem]) -> None:
    """Refuse defaults that every item would fail with: an unknown field, a value out of range. Defaults
    that need what the items give (a mode whose source_image each item names) are refused only when no
    item gives it."""
    refused = _refusal(_request(defaults, _SOME_PROMPT))
    if refused is None:
        return
    if all(_refusal(_request(defaults, item.request)) for item in items if item.request is not None):
        raise UsageError(f"--defaults {path}: {refused}")


def _check_size(path: Path, item: ReadItem, defaults: dict[str, Any]) -> None:
    """Refuse the batch for a line whose request could not reach the functions, naming the line."""
    if item.request is None:
        return
    request = _request(defaults, item.request)
    prompt = request.get("prompt")
    if isinstance(prompt, str) and len(prompt) > MAX_PROMPT_CHARS:
        raise UsageError(
            f"{path} line {item.line}: the prompt is {len(prompt):,} characters; "
            f"a run takes at most {MAX_PROMPT_CHARS:,}"
        )
    size = len(json.dumps(request, ensure_ascii=False).encode())
    if size > MAX_REQUEST_BYTES:
        raise UsageError(
            f"{path} line {item.line}: the request is {size:,} bytes as JSON; an item's may be at most "
            f"{MAX_REQUEST_BYTES // 1024} KiB"
        )


def rerun_name(batch: str) -> str:
    """The name of a later execution of the batch: Step Functions never reuses an execution name."""
    return f"{batch}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"


def start_batch(sfn: Any, machine_arn: str, source: BatchSource, bucket: str) -> str:
    """Start the batch state machine: the first execution is named after the batch, a later one (the
    name is taken: Step Functions keeps ended executions' names for 90 days) after the batch and the time."""
    from botocore.exceptions import ClientError

    request = source.request(bucket)
    try:
        return start(sfn, machine_arn, request, source.name)
    except ClientError as error:
        if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
            raise
    return start(sfn, machine_arn, request, rerun_name(source.name))

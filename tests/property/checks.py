"""What every answer to hostile input must look like, shared by the request and the handler properties."""

import json
import random
import re
from collections.abc import Iterator
from typing import Any

from hypothesis import reject

from common.errors import InvalidInput, ModelUnavailable
from common.generators import family_of
from common.keys import STAGING_PREFIX, RunKeys
from common.lifecycle import check_request
from common.request import MAX_IMAGES, RunRequest, parse_request
from common.sections import MODEL_ID
from common.settings import Settings
from tests.property.strategies import CONTROL_CHARS, EDIT_OBJECTS, KNOWN_FIELDS, SECTIONS
from tests.unit.fakes import generator as generator_named

MAX_MESSAGE_CHARS = 2000
# A value this long is never echoed: the longest value a message may repeat is a bucket name (63).
ECHO_MIN_CHARS = 64
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def strings_in(value: Any) -> Iterator[str]:
    """Every string value (not key) inside a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)


def keys_in(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from keys_in(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from keys_in(item)


def request_field_names(raw: Any) -> set[str]:
    """What a rejection of raw may name: a real field, or an unknown key raw has (cut at 100 characters)."""
    names = set(KNOWN_FIELDS) | set(SECTIONS)
    if isinstance(raw, dict):
        for key, value in raw.items():
            names.add(str(key)[:100])
            if (key in SECTIONS or key in EDIT_OBJECTS) and isinstance(value, dict):
                names |= {f"{key}.{inner}"[:100] for inner in value}
    return {name for name in names if name}


def assert_clean_rejection(error: InvalidInput, event: Any, names: set[str]) -> None:
    """Short, names a field, no stack trace, and no long value of the event repeated."""
    message = str(error)
    assert type(error) is InvalidInput
    assert 0 < len(message) < MAX_MESSAGE_CHARS, f"{len(message)} characters: {message[:300]}..."
    # (A message may quote a short value, and the value may hold the word: that is no stack trace.)
    quoted = any("Traceback" in text for text in (*strings_in(event), *keys_in(event)))
    assert quoted or "Traceback" not in message, message[:300]
    assert "stackTrace" not in message and 'File "' not in message, message[:300]
    assert any(message.startswith(f"{name}: ") for name in names), f"names no field: {message[:300]}"
    keys = list(keys_in(event))
    for value in strings_in(event):
        if len(value) >= ECHO_MIN_CHARS and not any(value in key for key in keys):
            assert value not in message, f"echoes a {len(value)}-character value: {message[:300]}"


def classify(raw: Any, settings: Settings) -> RunRequest | InvalidInput:
    """The request as "Check input" takes it (a retired model replaced by its successor before the
    allow-list is checked), or the InvalidInput it was rejected with; any other exception propagates."""
    try:
        return check_request(raw, settings)[0]
    except InvalidInput as error:
        return error
    except ModelUnavailable:
        # A retired model under "retired_models": "fail" ends the run by design, as ModelUnavailable: no rule
        # of the request's own for these properties to check.
        reject()


def assert_valid(request: RunRequest, settings: Settings) -> None:
    """What an accepted request guarantees to every later step."""
    assert request.max_images() == (
        request.max_retry_attempts * (request.max_prompt_revisions + 1) * request.candidates
    )
    assert 1 <= request.max_images() <= MAX_IMAGES
    # The prompt texts
    assert request.prompt.strip() and len(request.prompt) <= 4000
    for text in (request.prompt, request.negative_prompt):
        assert not set(text) & set(CONTROL_CHARS), repr(text[:80])
    assert request.prompt_template is None or request.prompt_template.count("{prompt}") == 1
    # Where files go: inside the allowed bucket, under a prefix that cannot climb out or reach staging.
    assert request.output.bucket in settings.allowed_buckets
    prefix = request.output.prefix
    assert 0 < len(prefix) <= 200
    assert not prefix.startswith(("/", "_", ".", STAGING_PREFIX)), prefix
    # No part is "." or "..": a part may hold ".." inside ("a..b", "v2.."), which climbs nowhere.
    assert all(_SEGMENT.match(part) and part not in (".", "..") for part in prefix.split("/")), prefix
    keys = RunKeys(prefix=prefix, execution_name="run-1")
    assert keys.manifest == f"{prefix}/run-1/manifest.json"
    assert keys.image(0, 1, "png").startswith(f"{prefix}/run-1/")
    assert not keys.image(10, 10, "png", 4).startswith(f"{STAGING_PREFIX}/")
    assert keys.staging(0, 1, "png").startswith(f"{STAGING_PREFIX}/{prefix}/run-1/")
    # The models: ids Bedrock could take; the generator typed by the family that serves its model id,
    # every parameter spelled out, and a Bedrock request body that is plain JSON.
    for section in (request.generator, request.validator, request.reviser):
        assert MODEL_ID.match(section.model_id), repr(section.model_id)
    generator = request.generator
    assert type(generator) is family_of(generator.model_id)
    assert set(generator.model_dump()) == set(type(generator).model_fields)
    dumped = generator.model_dump(mode="json")
    assert generator_named(dumped.pop("model_id"), **dumped) == generator
    body = generator.request_body(request.prompt, request.negative_prompt, generator.choose_seed(random.Random(1)))
    json.dumps(body, allow_nan=False)
    # What the state carries: plain JSON (no NaN), read back to the same request by every later task.
    dumped = request.model_dump(mode="json")
    assert json.loads(json.dumps(dumped, allow_nan=False)) == dumped
    assert RunRequest.model_validate(dumped) == request
    assert parse_request(dumped, settings) == request

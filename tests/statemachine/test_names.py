"""One rule for execution names: an idempotency key is accepted by the HTTP API's schema, by the
request rules and by a local run (where it names the execution and the run's folder) alike, or
refused by all three."""

from typing import Any

import pytest
from botocore.exceptions import ClientError
from jsonschema import Draft4Validator

from common.errors import InvalidInput
from common.request import parse_request
from common.schema import request_schema
from tests.conftest import load_event

KEYS = {
    "cover-2026-11-21": True,
    "a" * 80: True,
    "A_1": True,
    "_abc": False,  # Step Functions would take it, but it also names a folder: it must start alike
    "-abc": False,
    "a" * 81: False,
    "with space": False,
    "表紙": False,
}


@pytest.mark.parametrize(("key", "valid"), KEYS.items(), ids=[f"{k[:12]}-{v}" for k, v in KEYS.items()])
def test_an_idempotency_key_is_judged_alike_by_the_schema_the_rules_and_a_run(
    key: str, valid: bool, settings: Any, runner: Any
) -> None:
    event = {**load_event("small_budget.json"), "idempotency_key": key}

    assert Draft4Validator(request_schema()).is_valid(event) is valid
    try:
        parse_request(event, settings)
        by_rules = True
    except InvalidInput as error:
        assert str(error).startswith("idempotency_key: String should match pattern")
        by_rules = False
    assert by_rules is valid

    try:
        result = runner().run(event, key)  # the API names the execution after the key
    except ClientError as error:
        assert error.response["Error"]["Code"] == "InvalidName" and not valid
        return
    assert (result.status == "SUCCEEDED") is valid
    if not valid:
        assert result.error == "InvalidInput"

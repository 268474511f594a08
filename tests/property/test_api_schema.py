"""The HTTP API's request schema and the workflow's input check agree: whatever the schema admits
(what API Gateway lets through to StartExecution) the input check either accepts, or rejects for a
rule JSON Schema cannot say (the image budget, a template's slot, a family's sizes, allow-lists,
text and name rules, a field given twice), never for a type, a range or an unknown field."""

from typing import Any

from hypothesis import assume, event, given, settings
from jsonschema import Draft4Validator

from common.errors import InvalidInput
from common.schema import request_schema
from common.seed_events import FLAT_KEYS
from tests.property.checks import assert_clean_rejection, assert_valid, classify, request_field_names
from tests.property.strategies import DEPLOYED, schema_objects

# How pydantic words a broken type, range, length or shape: the schema says all of these itself.
SCHEMA_RULES = ("Input should be", "Field required", "unknown field", "String should")
# The generator's flat keys: the schema checks each by its own family, the workflow by the family of
# the model the request names, which the schema cannot tie them to.
FLAT_GENERATOR_KEYS = frozenset(key for key, (family, _) in FLAT_KEYS.items() if family.section == "generator")


def schema_disagreements(message: str, raw: dict[str, Any]) -> list[str]:
    """The parts of the message that reject for a rule the schema already states. (The schema has one
    branch per image family, so a structured generator is checked by the rules of its own family.)"""
    found = []
    for part in message.split("; "):
        field, _, rule = part.partition(": ")
        cross_field = field.startswith("generator") and not FLAT_GENERATOR_KEYS.isdisjoint(raw)
        if rule and not cross_field and any(words in rule for words in SCHEMA_RULES):
            found.append(part)
    return found


# The strategy draws from the schema's properties; its top-level rules across fields (anyOf) it does
# not know, so what they refuse is left out here: API Gateway never lets it through.
ADMITS = Draft4Validator(request_schema())


@settings(max_examples=200)
@given(schema_objects(request_schema()))
def test_what_the_api_schema_admits_is_accepted_or_rejected_for_a_rule_the_schema_cannot_say(
    raw: dict[str, Any],
) -> None:
    assume(ADMITS.is_valid(raw))
    outcome = classify(raw, DEPLOYED)
    if isinstance(outcome, InvalidInput):
        event(f"rejected: {str(outcome).split(':', 1)[0][:30]}")
        assert_clean_rejection(outcome, raw, request_field_names(raw))
        assert schema_disagreements(str(outcome), raw) == [], str(outcome)
    else:
        event("accepted")
        assert_valid(outcome, DEPLOYED)

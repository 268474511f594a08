"""The requests' JSON schemas (draft 4, the dialect API Gateway validates with), derived from the
request models so that the HTTP API and the workflows apply one set of rules.

The schema holds what JSON Schema can say (types, ranges, enums, unknown fields); rules across
fields (the image budget, a template's slot, a family's sizes) are the workflow's input check."""

from typing import Any

from common.batches import BatchRequest
from common.generators import FAMILIES, SERVICE_MODELS, family_of
from common.json_schema import plain_schema
from common.names import DEFAULT_GENERATOR_MODEL
from common.request import RunRequest
from common.seed_events import FLAT_KEYS


def _generator_schema(optional_ids: set[str]) -> dict[str, Any]:
    """One branch per member of the generator union: its model ids and its own parameters. A family
    serving one of `optional_ids` may leave model_id out, since the workflow then picks that model."""
    branches = []
    for family in FAMILIES:
        branch = {"type": "object", **plain_schema(family)}
        if any(family.serves(model_id) for model_id in optional_ids):
            branch.pop("required", None)
        branches.append(branch)
    return {"type": "object", "anyOf": branches}


def request_schema(default_model_id: str = DEFAULT_GENERATOR_MODEL) -> dict[str, Any]:
    schema = plain_schema(RunRequest)
    properties: dict[str, Any] = schema["properties"]
    # Every section is optional: the workflow fills in the deployment's defaults.
    schema["required"] = ["prompt"]
    for section in ("output", "validator", "reviser"):
        properties[section].pop("required", None)
    # An edit service's parameters without its model id name that service only in its own mode, which
    # a property alone cannot see: either the mode is a service's, or the generator fits without it.
    properties["generator"] = _generator_schema({default_model_id, *SERVICE_MODELS.values()})
    schema["anyOf"] = [
        {"properties": {"mode": {"enum": sorted(SERVICE_MODELS)}}, "required": ["mode"]},
        {"properties": {"generator": _generator_schema({default_model_id})}},
    ]
    for key, (keys, name) in FLAT_KEYS.items():
        family = family_of(keys.model) if keys.section == "generator" else None
        if family is not None:
            properties[key] = plain_schema(family)["properties"][name]
        elif keys.section:
            properties[key] = properties[keys.section]["properties"][name]
        else:
            properties[key] = properties[name]
    return _draft4("ImageLoopRequest", schema)


def _given(field: str) -> dict[str, Any]:
    """The field is there and not null (the model takes a null as left out)."""
    return {"required": [field], "properties": {field: {"not": {"type": "null"}}}}


def batch_schema() -> dict[str, Any]:
    """POST /batches: the batch state machine's input. Its one rule across fields is said too, so a
    body that can never run is refused before it starts an execution (and uses up its name): exactly
    one of `input` and `items`, `format` only with `input`, and no `id` among the defaults. Each item is
    checked by the workflow, as a line of a file is: one broken item fails alone, not the batch."""
    schema = plain_schema(BatchRequest)
    schema["oneOf"] = [_given("input"), _given("items")]
    schema["not"] = {"allOf": [_given("items"), _given("format")]}
    schema["properties"]["defaults"]["not"] = _given("id")
    return _draft4("ImageLoopBatchRequest", schema)


def _draft4(title: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "http://json-schema.org/draft-04/schema#", "title": title, **schema}

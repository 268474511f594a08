"""The request's JSON schema (draft 4, the dialect API Gateway validates with), derived from the
request model so that the HTTP API and the workflow apply one set of rules.

The schema holds what JSON Schema can say (types, ranges, enums, unknown fields); rules across
fields (the image budget, a template's slot, a family's sizes) are the workflow's input check."""

from typing import Any

from pydantic import BaseModel

from common.generators import FAMILIES, amazon, family_for, sdxl, stability
from common.generators.base import ImageFamily
from common.request import FLAT_KEYS, RunRequest

# Where the seed systems' flat generator keys take their rules from.
_FLAT_FAMILIES: dict[str, ImageFamily] = {
    "sd_": stability.FAMILY,
    "sdxl_": sdxl.FAMILY,
    "nova_canvas_": amazon.NOVA_CANVAS,
}
_DROPPED = {"title", "description", "default", "$defs"}


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """Resolve $refs, turn Optional's anyOf into a type list, and drop what draft 4 does not need."""
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in node:
        options = [_inline(option, defs) for option in node["anyOf"]]
        nullable = [o for o in options if o.get("type") == "null"]
        others = [o for o in options if o.get("type") != "null"]
        if nullable and len(others) == 1:
            merged = dict(others[0])
            merged["type"] = [merged["type"], "null"]
            return merged
        return {"anyOf": options}
    return {key: _inline(value, defs) for key, value in node.items() if key not in _DROPPED}


def _model_schema(model: type[BaseModel]) -> dict[str, Any]:
    raw = model.model_json_schema()
    return dict(_inline(raw, raw.get("$defs", {})))


def _generator_schema(default_model_id: str) -> dict[str, Any]:
    """One branch per image family: its model ids and its own parameters. Only the default model's
    family may leave model_id out, since the workflow then uses the default model."""
    default = family_for(default_model_id)
    branches = []
    for family in FAMILIES:
        params = _model_schema(family.params_model)
        branch: dict[str, Any] = {
            "type": "object",
            "properties": {"model_id": {"type": "string", "pattern": family.model_pattern}, **params["properties"]},
            "additionalProperties": False,
        }
        if family is not default:
            branch["required"] = ["model_id"]
        branches.append(branch)
    return {"type": "object", "anyOf": branches}


def request_schema(default_model_id: str = "stability.sd3-5-large-v1:0") -> dict[str, Any]:
    schema = _model_schema(RunRequest)
    properties: dict[str, Any] = schema["properties"]
    # Every section is optional: the workflow fills in the deployment's defaults.
    schema["required"] = ["prompt"]
    for section in ("output", "validator", "reviser"):
        properties[section].pop("required", None)
    properties["generator"] = _generator_schema(default_model_id)
    for key, (section, name) in FLAT_KEYS.items():
        family = next((f for prefix, f in _FLAT_FAMILIES.items() if key.startswith(prefix)), None)
        if section != "generator":
            family = None
        if family is not None and name == "model_id":
            properties[key] = {"type": "string", "pattern": family.model_pattern}
        elif family is not None:
            properties[key] = _model_schema(family.params_model)["properties"][name]
        elif section:
            properties[key] = properties[section]["properties"][name]
        else:
            properties[key] = properties[name]
    return {"$schema": "http://json-schema.org/draft-04/schema#", "title": "ImageLoopRequest", **schema}

"""JSON schemas from pydantic models, in the plain form that API Gateway (draft 4) and Bedrock's tool
definitions take: references resolved, Optional as a type list, no titles or defaults."""

from typing import Any

from pydantic import BaseModel

_DROPPED = {"title", "default", "$defs"}


def _inline(node: Any, defs: dict[str, Any], keep_descriptions: bool) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs, keep_descriptions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _inline(defs[node["$ref"].rsplit("/", 1)[-1]], defs, keep_descriptions)
    if "anyOf" in node:
        options = [_inline(option, defs, keep_descriptions) for option in node["anyOf"]]
        nullable = [o for o in options if o.get("type") == "null"]
        others = [o for o in options if o.get("type") != "null"]
        if nullable and len(others) == 1:
            merged = dict(others[0])
            merged["type"] = [merged["type"], "null"]
            return merged
        return {"anyOf": options}
    dropped = _DROPPED if keep_descriptions else {*_DROPPED, "description"}
    return {key: _inline(value, defs, keep_descriptions) for key, value in node.items() if key not in dropped}


def plain_schema(model: type[BaseModel], keep_descriptions: bool = False) -> dict[str, Any]:
    raw = model.model_json_schema(by_alias=True)
    return dict(_inline(raw, raw.get("$defs", {}), keep_descriptions))

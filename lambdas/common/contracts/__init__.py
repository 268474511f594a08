"""Bedrock's request contracts, one JSON file per model family, written from the published pages: each
field's type, range, enum and length, the source image's size limits, and Bedrock's wording when a body
breaks them. Every rule names its source (URL, date read, and `unconfirmed` where only a third-party
copy or Stability's own API says so).

They are enforced twice, from the same data: the adapters refuse a parameter outside them at Check
input (`ImageGenerator`), and the Bedrock stand-in refuses a body outside them as Bedrock does, so an
adapter that writes a wrong body fails a test."""

import base64
import binascii
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict

from common.catalogue import base_model_id
from common.image_files import probe
from common.model import Model

_HERE = Path(__file__).parent
FAMILY_FILES = ("stability", "stability_edit", "sdxl", "nova_canvas", "titan_image")


class _Data(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Data):
    url: str
    read: str
    unconfirmed: bool
    says: str


class ImageLimits(_Data):
    """What a source image must be: the size of each side and in all, and how far from square."""

    min_side: int
    max_pixels: int
    min_pixels: int = 0
    max_aspect: float | None = None  # 2.5: between 1:2.5 and 2.5:1
    source: str

    def problem(self, width: int, height: int) -> str | None:
        if min(width, height) < self.min_side:
            return f"{width}x{height}: every side must be at least {self.min_side} px"
        if not self.min_pixels <= width * height <= self.max_pixels:
            return f"{width}x{height}: must have {self.min_pixels:,} to {self.max_pixels:,} pixels"
        if self.max_aspect and max(width, height) / min(width, height) > self.max_aspect:
            return f"{width}x{height}: the aspect ratio must be between 1:{self.max_aspect:g} and {self.max_aspect:g}:1"
        return None


FieldType = Literal["string", "integer", "number", "boolean", "image", "object", "array"]
_JSON_TYPES = {"string": "String", "integer": "Integer", "number": "Number", "boolean": "Boolean"}


class Rule(_Data):
    type: FieldType
    required: bool = False
    required_when: dict[str, str] | None = None  # required when a sibling field has this value
    min: float | None = None
    max: float | None = None
    enum: list[str] | None = None
    min_length: int | None = None
    max_length: int | None = None
    fields: dict[str, "Rule"] | None = None  # an object's own fields
    items: "Rule | None" = None  # an array's items
    source: str

    def describe(self) -> str:
        """The rule as a person reads it: '0..4294967294', 'one of png, jpeg', 'up to 1024 characters'."""
        if self.enum is not None:
            return "one of " + ", ".join(self.enum)
        if self.min is not None or self.max is not None:
            low, high = (_number(bound) if bound is not None else "" for bound in (self.min, self.max))
            return f"{low}..{high}"
        if self.max_length is not None:
            return f"{self.min_length or 0} to {self.max_length} characters"
        return f"a {self.type}"


def _number(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)


@dataclass(frozen=True)
class Violation:
    """One broken rule: the body's field (dotted), the rule in plain words, and Bedrock's wording of it."""

    field: str
    rule: str
    message: str


class BodyContract(_Data):
    models: list[str]
    fields: dict[str, Rule]
    image: ImageLimits | None = None

    def rule(self, path: str) -> Rule | None:
        """The rule of a field by its dotted path (None: the body takes no such field)."""
        fields: dict[str, Rule] | None = self.fields
        found = None
        for part in path.split("."):
            found = (fields or {}).get(part)
            if found is None:
                return None
            fields = found.fields
        return found

    def check_value(self, path: str, value: object) -> list[Violation]:
        """The rules one value of a field breaks (the field must be in the contract)."""
        rule = self.rule(path)
        assert rule is not None, path
        return _check_value(rule, value, "/" + path.replace(".", "/"), self.image)

    def check(self, body: object) -> list[Violation]:
        """Every rule the body breaks, in the order Bedrock would list them."""
        return _check_object(self.fields, body, "", self.image)


class Family(_Data):
    family: str
    sources: dict[str, Source]
    bodies: list[BodyContract]
    refusals: dict[str, str] | None = None


@cache
def families() -> dict[str, Family]:
    """Each family's contracts by the family's name (`ImageGenerator.family`)."""
    read = [Family.model_validate_json((_HERE / f"{name}.json").read_text()) for name in FAMILY_FILES]
    return {family.family: family for family in read}


@cache
def wording() -> dict[str, Any]:
    return dict(json.loads((_HERE / "wording.json").read_text()))


@cache
def converse_images() -> dict[str, Any]:
    """Converse's limits on each image block: bytes, pixels a side, images a message, formats."""
    return dict(json.loads((_HERE / "converse.json").read_text())["images"])


def contract_for(model_id: str) -> BodyContract | None:
    """The contract of the body a model takes (by its id, profile id or foundation-model ARN), if written."""
    base = base_model_id(model_id)
    return next((body for family in families().values() for body in family.bodies if base in body.models), None)


def family_max(family: str, field: str, every: bool = False) -> float:
    """The highest value of a field some model of the family takes: the outer limit of the adapter's
    parameter (and of the HTTP API's schema), which the named model's contract narrows at Check input.
    With `every`, the highest every model of the family takes (a seed drawn at random must fit any)."""
    tops = [rule.max for body in families()[family].bodies if (rule := body.rule(field)) and rule.max is not None]
    return min(tops) if every else max(tops)


def bedrock_message(violations: list[Violation]) -> str:
    """The ValidationException's message Bedrock gives for these violations: each rule, joined."""
    return str(wording()["validation"]["message"]).format(rules="".join(v.message for v in violations))


def _rule_text(name: str, **values: object) -> str:
    return str(wording()["validation"]["rules"][name]).format(**values)


def _check_object(fields: dict[str, Rule], body: object, parent: str, image: ImageLimits | None) -> list[Violation]:
    if not isinstance(body, dict):
        return [
            Violation(
                parent.lstrip("/") or "body",
                "an object",
                _rule_text("type", path=parent, expected="JSONObject", found=type(body).__name__),
            )
        ]
    dotted = parent.strip("/").replace("/", ".")
    violations = [
        Violation(f"{dotted}.{key}".lstrip("."), "unknown field", _rule_text("extraneous", parent=parent, key=key))
        for key in body
        if key not in fields
    ]
    for name, rule in fields.items():
        path = f"{parent}/{name}"
        if name not in body:
            needed = rule.required or any(body.get(k) == v for k, v in (rule.required_when or {}).items())
            if needed:
                violations.append(
                    Violation(
                        path.strip("/").replace("/", "."), "required", _rule_text("required", parent=parent, key=name)
                    )
                )
            continue
        violations += _check_value(rule, body[name], path, image)
    return violations


def _check_value(rule: Rule, value: object, path: str, image: ImageLimits | None) -> list[Violation]:
    field = path.strip("/").replace("/", ".")

    def broken(name: str, **values: object) -> list[Violation]:
        return [Violation(field, rule.describe(), _rule_text(name, path=path, **values))]

    if rule.type == "object":
        return _check_object(rule.fields or {}, value, path, image)
    if rule.type == "array":
        if not isinstance(value, list):
            return broken("type", expected="JSONArray", found=type(value).__name__)
        return [
            v
            for i, item in enumerate(value)
            if rule.items
            for v in _check_value(rule.items, item, f"{path}/{i}", image)
        ]
    if not _is_type(rule.type, value):
        return broken("type", expected=_JSON_TYPES.get(rule.type, "String"), found=type(value).__name__)
    if rule.type == "image":
        problem = _image_problem(str(value), image)
        return (
            [Violation(field, "a source image Bedrock takes", _rule_text("image", path=path, problem=problem))]
            if problem
            else []
        )
    if rule.enum is not None and value not in rule.enum:
        return broken("enum", value=value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if rule.max is not None and value > rule.max:
            return broken("max", value=value, max=_number(rule.max))
        if rule.min is not None and value < rule.min:
            return broken("min", value=value, min=_number(rule.min))
    if isinstance(value, str):
        if rule.max_length is not None and len(value) > rule.max_length:
            return broken("max_length", max_length=rule.max_length, actual=len(value))
        if rule.min_length is not None and len(value) < rule.min_length:
            return broken("min_length", min_length=rule.min_length, actual=len(value))
    return []


def _is_type(expected: FieldType, value: object) -> bool:
    if expected in ("string", "image"):
        return isinstance(value, str)
    if expected == "boolean":
        return isinstance(value, bool)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _image_problem(encoded: str, limits: ImageLimits | None) -> str | None:
    # The headers are in the first bytes: decode no more of a large image than it takes to read them.
    try:
        head = base64.b64decode(encoded[: 4 * 90_000], validate=True)
    except (binascii.Error, ValueError):
        return "is not base64"
    found = probe(head)
    if found is None:
        return "is not a PNG, JPEG or WebP image"
    return limits.problem(found.width, found.height) if limits else None

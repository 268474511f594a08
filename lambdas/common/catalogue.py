"""The model catalogue (catalogue.json): lifecycle status and successors of the models the seeds use."""

import re
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import Field

from common.model import Model

_PROFILE = re.compile(r"^(global|us|eu|apac|jp|au|ca|us-gov)\.")


class ModelInfo(Model):
    id: str
    role: Literal["image", "vision", "text"]
    status: Literal["ACTIVE", "LEGACY", "EOL"]
    family: str | None = None
    eol: str | None = None
    successor: str | None = None
    successor_note: str | None = None
    note: str | None = None  # the evidence for the status, and what is unsettled about the model
    regions: list[str] = Field(default_factory=list)
    profiles: list[str] = Field(default_factory=list)


class Catalogue(Model):
    as_of: str
    note: str
    models: list[ModelInfo]


@cache
def catalogue() -> Catalogue:
    return Catalogue.model_validate_json((Path(__file__).parent / "catalogue.json").read_text())


def base_model_id(model_id: str) -> str:
    """The foundation model behind an id, a cross-region inference profile id or an ARN."""
    tail = model_id.rsplit("/", 1)[-1]
    return _PROFILE.sub("", tail)


def lookup(model_id: str) -> ModelInfo | None:
    base = base_model_id(model_id)
    return next((m for m in catalogue().models if m.id == base), None)


def successor_note(model_id: str) -> str:
    info = lookup(model_id)
    if info is None or info.status == "ACTIVE" or not info.successor:
        return ""
    status = "retired" if info.status == "EOL" else "a legacy model"
    extra = f" ({info.successor_note})" if info.successor_note else ""
    return f"; {info.id} is {status} on Bedrock, use {info.successor} instead{extra}"

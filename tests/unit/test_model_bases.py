"""A function's cold start pays only for the models it reads: every model of the functions is built at its
first use (common.model), none at import."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pydantic
import pytest

LAMBDAS = Path(__file__).resolve().parents[2] / "lambdas"
HANDLERS = ["generate.handler", "save.handler", "validate.handler", "revise.handler", "status.handler"]

_CHILD = """
import importlib, json, sys
import pydantic

handlers = json.loads(sys.argv[1])
for name in handlers:
    importlib.import_module(name)
packages = {"common", *(name.split(".")[0] for name in handlers)}

def models(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from models(sub)

def named(model):
    return f"{model.__module__}.{model.__qualname__}"

# Concrete models only: a generic still open (RootModel[T] under common.model.Root) is never built.
ours = [
    m for m in models(pydantic.BaseModel)
    if m.__module__.split(".")[0] in packages and not m.__pydantic_generic_metadata__["parameters"]
]
print(json.dumps({
    "models": len(ours),
    "not_deferred": sorted(named(m) for m in ours if not m.model_config.get("defer_build")),
    "built": sorted(named(m) for m in ours if m.__pydantic_complete__),
}))
"""


def _imported() -> dict[str, Any]:
    """What a fresh interpreter holds after importing every handler, as Lambda's init does."""
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, json.dumps(HANDLERS)],
        cwd=LAMBDAS,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_every_model_of_the_functions_is_built_at_first_use_not_at_import() -> None:
    found = _imported()
    assert found["models"] > 50
    assert found["not_deferred"] == []
    # What importing builds anyway, all small: a default instance (Edit()), the contracts' family record, and
    # the judge's and the reviser's tool schemas.
    built_anyway = {
        "common.tasks.Edit",
        "common.contracts.Family",
        "validate.logic.VerdictReply",
        "revise.logic.PromptReply",
    }
    assert set(found["built"]) <= built_anyway


def test_a_deferred_model_still_checks_what_it_reads() -> None:
    from common.tasks import SaveTask

    with pytest.raises(pydantic.ValidationError, match="does not match any of the expected tags"):
        SaveTask.model_validate({"action": "no such action"})

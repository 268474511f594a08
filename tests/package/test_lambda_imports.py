"""The package as Lambda runs it: every function of the bundled assembly imports its handler on the
functions' own Python, from its code asset and layers alone, with the environment the template gives it.

The in-process tests import the handlers from this checkout with this machine's packages; this one catches
what only the deployed package would show: a module outside lambdas/, a dependency neither layer has, a
wheel built for another Python, or an import that needs a variable the template does not set."""

import pytest

from common.names import STACK_NAME
from imgloop.local.assembly import LocalNames, load_workflow, synthesize
from tests.package.lambda_package import RUNTIME, function_packages, import_handler, python

INTERPRETER = python()

pytestmark = [
    pytest.mark.package,
    pytest.mark.skipif(
        INTERPRETER is None,
        reason=f"no Python {RUNTIME} (the functions' runtime): install it with pyenv (`pyenv install {RUNTIME}`)",
    ),
]


def test_every_function_imports_its_handler_from_its_package(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert INTERPRETER is not None
    assembly = synthesize(tmp_path_factory.mktemp("bundled.out"), bundling=True)
    names = LocalNames()
    environment = {spec.logical_id: spec.environment for spec in load_workflow(assembly, names).functions.values()}
    packages = function_packages(assembly, STACK_NAME, environment)
    assert {p.handler for p in packages} == {
        f"{name}.handler.handler" for name in ("generate", "save", "validate", "revise", "status")
    }
    failures = []
    for package in packages:
        imported = import_handler(INTERPRETER, package, names.region)
        if imported.returncode:
            failures.append(f"{package.logical_id} ({package.handler}):\n{imported.stderr.strip()}")
    assert not failures, "these functions do not import as Lambda would run them:\n\n" + "\n\n".join(failures)

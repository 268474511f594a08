"""A second synthesis, with the context a deploy may set otherwise: API keys and another batch
concurrency. One per test run, shared by the tests that look at either."""

import json
from typing import Any

import pytest

from tests.infrastructure.helpers import VARIANT_CONTEXT


@pytest.fixture(scope="session")
def variant(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], dict[str, Any]]:
    """The template and the validation report of that synthesis."""
    from infra.app import build_app

    out = tmp_path_factory.mktemp("variant.out")
    build_app(str(out), {**VARIANT_CONTEXT, "aws:cdk:bundling-stacks": []}).synth()
    return json.loads((out / "ImageLoop.template.json").read_text()), json.loads(
        (out / "validation-report.json").read_text()
    )

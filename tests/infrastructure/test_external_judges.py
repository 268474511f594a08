"""Independent checkers: cfn-lint on the synthesized template, asl-validator on both definitions."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from common.names import STACK_NAME
from imgloop.local.assembly import LocalNames, load_workflow

ROOT = Path(__file__).resolve().parents[2]
ASL_VALIDATOR = ROOT / ".tools" / "node_modules" / ".bin" / "asl-validator"


def test_cfn_lint_finds_no_errors(assembly: Path) -> None:
    run = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "cfn-lint"), "--format", "json", str(assembly / f"{STACK_NAME}.template.json")],
        capture_output=True,
        text=True,
        check=False,
    )
    findings: list[dict[str, Any]] = json.loads(run.stdout or "[]")
    errors = [f for f in findings if f["Level"] == "Error"]
    assert errors == [], json.dumps(errors, indent=1)
    assert run.returncode in (0, 4, 8, 12)  # warnings or informational findings only


@pytest.mark.parametrize("machine", ["definition", "batch_definition"], ids=["the loop", "the batch"])
def test_asl_validator_accepts_the_definition(machine: str, assembly: Path, tmp_path: Path) -> None:
    assert ASL_VALIDATOR.exists(), "asl-validator is missing: `make test` installs it into .tools/"
    definition = tmp_path / "definition.json"
    definition.write_text(json.dumps(getattr(load_workflow(assembly, LocalNames()), machine)))
    run = subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(definition)], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "is valid" in run.stdout

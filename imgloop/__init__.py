"""imgloop: run, inspect and test the image loop; the workflow itself lives in infra/, lambdas/ and statemachine/.

The tool runs from this checkout (installed with `pip install -e .`, which installs the functions' own
packages from lambdas/ too): it synthesizes the CDK app found beside it."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

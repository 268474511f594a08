"""The CDK app: one stack composed of storage, workflow and API constructs."""

import sys
from pathlib import Path

# The API's request schema comes from the functions' own request model (one set of rules).
_LAMBDAS = str(Path(__file__).resolve().parent.parent / "lambdas")
if _LAMBDAS not in sys.path:
    sys.path.append(_LAMBDAS)

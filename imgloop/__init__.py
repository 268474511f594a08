"""imgloop: run, inspect and test the image loop; the workflow itself lives in infra/, lambdas/ and statemachine/.

The command runs from this checkout: the CDK app (infra/, statemachine/) and the functions' own modules
(lambdas/) are imported from it, so they are put on the path once, here."""

import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
for _path in (PROJECT_ROOT, PROJECT_ROOT / "lambdas"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

"""Paths and settings of the CDK app alone; the names it shares with the functions and the tool are in
common.names."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = ROOT / "lambdas"

# Resolved by CloudFormation at deploy time: the newest public Powertools v3 layer for this runtime.
POWERTOOLS_LAYER_PARAMETER = "/aws/service/powertools/python/x86_64/python3.13/latest"

# Functions: (construct id, handler, timeout seconds)
FUNCTIONS = {
    # Bedrock's read timeout (110 s) plus the S3 write must fit.
    "generate": ("GenerateFunction", "generate.handler.handler", 180),
    # A batch's first and last steps read a record per item (up to 10,000, 32 at a time).
    "save": ("SaveFunction", "save.handler.handler", 90),
    "validate": ("ValidateFunction", "validate.handler.handler", 120),
    "revise": ("ReviseFunction", "revise.handler.handler", 120),
}

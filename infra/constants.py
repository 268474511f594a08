"""Names, context keys and defaults of the CDK app, in one place."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAMBDAS_DIR = ROOT / "lambdas"

STACK_NAME = "ImageLoop"
SERVICE_NAME = "imgloop"
METRICS_NAMESPACE = "ImageLoop"

# cdk.json context keys
CTX_GENERATOR_MODEL = "imgloop:generator_model_id"
CTX_VALIDATOR_MODEL = "imgloop:validator_model_id"
CTX_REVISER_MODEL = "imgloop:reviser_model_id"
CTX_EXTRA_BUCKETS = "imgloop:extra_output_buckets"
CTX_POWERTOOLS_LAYER = "imgloop:powertools_layer_arn"
CTX_ALLOWED_MODELS = "imgloop:allowed_models"
CTX_BATCH_CONCURRENCY = "imgloop:batch_concurrency"  # items of a batch run at once, unless the batch says
CTX_API_AUTH = "imgloop:api_auth"  # "iam" (SigV4, the default) or "api_key"

DEFAULT_BATCH_CONCURRENCY = 4

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

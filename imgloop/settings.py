"""The settings a deployment's functions run with, as cdk.json's context chooses them: for checking a
request on this machine, before anything is sent, with the rules the functions will apply."""

import json

from common import names
from common.names import Context
from common.settings import Settings
from imgloop import PROJECT_ROOT


def deployment_settings() -> Settings:
    """cdk.json's models (else the project's defaults); the bucket and region are the deployment's to say."""
    context = json.loads((PROJECT_ROOT / "cdk.json").read_text(encoding="utf-8"))["context"]
    return Settings(
        output_bucket="any-bucket",
        region="",
        generator_model_id=context.get(Context.GENERATOR_MODEL, names.DEFAULT_GENERATOR_MODEL),
        validator_model_id=context.get(Context.VALIDATOR_MODEL, names.DEFAULT_VALIDATOR_MODEL),
        reviser_model_id=context.get(Context.REVISER_MODEL, names.DEFAULT_REVISER_MODEL),
    )

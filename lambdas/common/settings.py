"""Deployment settings the functions read from their environment, parsed once per cold start."""

import functools
import json
import os
from typing import Annotated

from pydantic import AliasChoices, BeforeValidator, ConfigDict, Field

from common.batches import Concurrency
from common.model import Model
from common.names import DEFAULT_REGION
from common.quotas import PlanSettings

# CDK writes lists as comma-separated environment values.
_Listed = Annotated[
    tuple[str, ...], BeforeValidator(lambda v: tuple(p for p in v.split(",") if p) if isinstance(v, str) else v)
]
_ENV_NAMES = (
    "OUTPUT_BUCKET",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "GENERATOR_MODEL_ID",
    "VALIDATOR_MODEL_ID",
    "REVISER_MODEL_ID",
    "EXTRA_OUTPUT_BUCKETS",
    "ALLOWED_MODELS",
    "BATCH_CONCURRENCY",
    "MAX_COST_USD",
    "BATCH_PLAN",
)


class Settings(Model):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    output_bucket: str = Field(alias="OUTPUT_BUCKET")
    region: str = Field(
        default=DEFAULT_REGION, validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION", "region")
    )
    generator_model_id: str = Field(alias="GENERATOR_MODEL_ID")
    validator_model_id: str = Field(alias="VALIDATOR_MODEL_ID")
    reviser_model_id: str = Field(alias="REVISER_MODEL_ID")
    # Buckets besides the stack's own that a request may name; the stack grants rights on them.
    extra_output_buckets: _Listed = Field(default=(), alias="EXTRA_OUTPUT_BUCKETS")
    # The models the stack's IAM policy lets the functions invoke (cdk.json imgloop:allowed_models).
    allowed_models: _Listed = Field(default=(), alias="ALLOWED_MODELS")
    # How many items of a batch run at once when the batch does not say (cdk.json imgloop:batch_concurrency);
    # when neither says, the batch's plan sets it from the models' quotas.
    batch_concurrency: Concurrency | None = Field(default=None, alias="BATCH_CONCURRENCY")
    # Quotas and latencies the plan uses in place of the account's and its defaults (cdk.json imgloop:batch_plan).
    batch_plan: Annotated[PlanSettings, BeforeValidator(lambda v: json.loads(v) if isinstance(v, str) else v)] = Field(
        default_factory=PlanSettings, alias="BATCH_PLAN"
    )
    # A run's spending cap when its request sets none (cdk.json imgloop:max_cost_usd).
    max_cost_usd: float | None = Field(default=None, gt=0, alias="MAX_COST_USD")

    @property
    def allowed_buckets(self) -> tuple[str, ...]:
        return (self.output_bucket, *self.extra_output_buckets)


def current() -> Settings:
    """The settings of this function's environment. A deployed function's environment never changes;
    the local runner serves every function from one process, so the cache is keyed by the values."""
    return _parsed(tuple(os.environ.get(name) for name in _ENV_NAMES))


@functools.lru_cache(maxsize=8)
def _parsed(values: tuple[str | None, ...]) -> Settings:
    return Settings.model_validate({name: value for name, value in zip(_ENV_NAMES, values, strict=True) if value})

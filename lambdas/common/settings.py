"""Deployment settings the functions read from their environment, once per cold start."""

import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Settings:
    output_bucket: str
    region: str
    generator_model_id: str
    validator_model_id: str
    reviser_model_id: str
    # Buckets besides the stack's own that a request may name; the stack grants rights on them.
    extra_output_buckets: tuple[str, ...] = field(default_factory=tuple)
    # The models the stack's IAM policy lets the functions invoke (cdk.json imgloop:allowed_models).
    allowed_models: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed_buckets(self) -> tuple[str, ...]:
        return (self.output_bucket, *self.extra_output_buckets)

    @classmethod
    def from_env(cls) -> "Settings":
        env = os.environ
        return cls(
            output_bucket=env["OUTPUT_BUCKET"],
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-west-2",
            generator_model_id=env["GENERATOR_MODEL_ID"],
            validator_model_id=env["VALIDATOR_MODEL_ID"],
            reviser_model_id=env["REVISER_MODEL_ID"],
            extra_output_buckets=tuple(b for b in env.get("EXTRA_OUTPUT_BUCKETS", "").split(",") if b),
            allowed_models=tuple(m for m in env.get("ALLOWED_MODELS", "").split(",") if m),
        )

"""A batch's plan: how many items run at once so that the calls they make stay just under the tightest
Bedrock quota of the models the batch calls, and what that rate and the batch's duration are expected to be.

The arithmetic, for each quota on a model the batch calls:

    one running item uses   u = calls of that model per item x (tokens per call, for a tokens quota) / item seconds
    a quota Q a minute lets C = floor(TARGET x Q / (60 x u)) items run at once

and the plan's concurrency is the smallest C over the quotas (the binding quota), at least 1 and at most the
batch model's bound. An item's calls and seconds come from its budget: `max_retry_attempts x
(max_prompt_revisions + 1)` attempts, each `candidates` image calls then as many judge calls, plus one reviser
call per revision; an attempt takes the image model's latency, the judge's, and the orchestration's between
tasks. That is the item's longest run (an item that is accepted early stops sooner), yet the rate of calls per
running item is the same whether it stops early or not, and the rate is what a quota limits.

Bedrock's quotas, as read on 2026-12-03 (https://docs.aws.amazon.com/bedrock/latest/userguide/quotas-runtime.html
and .../quotas-increase.html): throttling on bedrock-runtime is per model and per Region,
"On-demand InvokeModel tokens per minute for <model>" (or "Cross-Region ..." through an inference profile), shared
by InvokeModel and Converse; the older "... requests per minute for <model>" quotas are still listed for some
models. Their default values could not be read (the General Reference's table), so every default below is
unconfirmed: the plan reads the account's own values from Service Quotas and falls back to these only when it
cannot, and says so in the plan.
"""

import math
from typing import Literal

from pydantic import ConfigDict, Field, PositiveFloat

from common.model import Model
from common.names import MAX_BATCH_CONCURRENCY

# How close to the binding quota the plan runs: just under it, so that a slower or faster call here and there
# is not throttled, while the quota is nearly all used.
TARGET = 0.95

QuotaUnit = Literal["requests", "tokens"]
QuotaSource = Literal["service-quotas", "default", "override"]
Role = Literal["image", "text"]

# Tokens one judge or reviser call counts against a tokens-per-minute quota: the bench's estimate for a judge
# call on a 1024x1024 image (bench/tokens.py: 2,053 input and 91 output tokens), rounded up.
TOKENS_PER_TEXT_CALL = 2_200

# Unconfirmed defaults, used when the account's quotas cannot be read (see the module's docstring).
# The image model's: chosen so that the plan with the default latencies gives the stack's earlier fixed
# concurrency of 4 (0.95 x 24 x 12 s / 60 = 4.6).
DEFAULT_IMAGE_REQUESTS_PER_MINUTE = 24.0
# The judge's and reviser's: a tokens-per-minute figure of the order AWS grants Claude Sonnet on demand.
DEFAULT_TEXT_TOKENS_PER_MINUTE = 200_000.0
UNCONFIRMED = "an unconfirmed default"

# How the quota names in Service Quotas spell each model (after "... per minute for "). Unconfirmed: the
# names follow the pattern AWS documents, with the model's name as the console writes it.
QUOTA_MODEL_NAMES: dict[str, tuple[str, ...]] = {
    "stability.sd3-5-large-v1:0": ("SD3.5 Large", "Stable Diffusion 3.5 Large"),
    "stability.stable-image-ultra-v1:1": ("Stable Image Ultra",),
    "stability.stable-image-core-v1:1": ("Stable Image Core",),
    "amazon.nova-canvas-v1:0": ("Nova Canvas",),
    "anthropic.claude-sonnet-4-6": ("Claude Sonnet 4.6",),
    "anthropic.claude-haiku-4-5-20251001-v1:0": ("Claude Haiku 4.5",),
}


class Quota(Model):
    """One per-minute quota on a model the batch calls, and where its value came from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_id: str
    role: Role  # the image model, or the judge's and reviser's text model
    name: str  # as Service Quotas names it (for a default or an override, the quota it stands for)
    unit: QuotaUnit
    per_minute: float = Field(gt=0)
    source: QuotaSource
    note: str = ""


class PlanSettings(Model):
    """What a batch request (`plan`) or the deployment (cdk.json imgloop:batch_plan) says in place of the
    account's quotas and the models' usual latencies. The request's fields win over the deployment's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_requests_per_minute: PositiveFloat | None = None
    text_requests_per_minute: PositiveFloat | None = None
    text_tokens_per_minute: PositiveFloat | None = None
    # Seconds: one image call, one judge call, one reviser call, and the orchestration of one attempt
    # (Step Functions' transitions and the Lambda tasks around the model calls).
    image_s: PositiveFloat = 8.0
    judge_s: PositiveFloat = 3.0
    reviser_s: PositiveFloat = 3.0
    overhead_s: float = Field(default=1.0, ge=0)

    def over(self, base: "PlanSettings") -> "PlanSettings":
        """These settings where they were given, `base`'s elsewhere."""
        return base.model_copy(update=self.model_dump(exclude_unset=True))

    def overrides(self, models: dict[Role, str]) -> list[Quota]:
        given: list[tuple[Role, QuotaUnit, float | None]] = [
            ("image", "requests", self.image_requests_per_minute),
            ("text", "requests", self.text_requests_per_minute),
            ("text", "tokens", self.text_tokens_per_minute),
        ]
        return [
            Quota(
                model_id=models[role],
                role=role,
                name=f"{unit} per minute for {models[role]}",
                unit=unit,
                per_minute=value,
                source="override",
            )
            for role, unit, value in given
            if value is not None
        ]


class ItemWork(Model):
    """What one item asks of the models, at most: its calls and how long it runs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    image_calls: float
    text_calls: float  # judge and reviser calls
    seconds: float

    @classmethod
    def of(cls, candidates: int, attempts: int, revisions: int, settings: PlanSettings) -> "ItemWork":
        tries = attempts * (revisions + 1)
        attempt_s = settings.image_s + settings.judge_s + settings.overhead_s
        return cls(
            image_calls=tries * candidates,
            text_calls=tries * candidates + revisions,
            seconds=tries * attempt_s + revisions * settings.reviser_s,
        )

    def per_minute(self, quota: Quota) -> float:
        """How much of `quota` one running item uses a minute."""
        calls = self.image_calls if quota.role == "image" else self.text_calls
        used = calls * (TOKENS_PER_TEXT_CALL if quota.unit == "tokens" else 1)
        return used * 60 / self.seconds


class BatchPlan(Model):
    """The plan a batch runs to: recorded in "Read the batch"'s output and the batch's summary."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    concurrency: int  # items run at once: the request's, else the planned
    planned: int  # what the quotas allow
    requested: int | None = None
    items: int  # items this execution runs (not skipped, readable)
    item_s: float  # one item's expected duration (its whole budget)
    duration_s: float  # the batch's expected duration at this concurrency
    images_per_minute: float  # the image model's expected request rate at this concurrency
    binding: Quota | None = None  # the tightest quota (None when no quota is known)
    binding_per_minute: float | None = None  # the expected use of the binding quota a minute
    quotas: list[Quota] = Field(default_factory=list)
    settings: PlanSettings = Field(default_factory=PlanSettings)
    warning: str | None = None  # the requested concurrency would exceed the binding quota

    def lines(self) -> list[str]:
        """The plan in words, as the batch commands show it."""
        rate = f"{self.images_per_minute:.1f} image request(s) a minute"
        text = (
            f"plan: {self.concurrency} item(s) at once, about {rate}, {duration_text(self.duration_s)} for {self.items}"
        )
        lines = [text + " item(s)"]
        if self.binding is not None and self.binding_per_minute is not None:
            quota = self.binding
            where = "" if quota.source == "service-quotas" else f" ({quota.note or quota.source})"
            lines.append(
                f"  binding quota: {quota.name}: {quota.per_minute:g} {quota.unit} a minute{where}; "
                f"expected use {self.binding_per_minute:.0f} ({self.binding_per_minute / quota.per_minute:.0%})"
            )
        if self.warning:
            lines.append(f"  warning: {self.warning}")
        return lines


def plan(work: list[ItemWork], quotas: list[Quota], settings: PlanSettings, requested: int | None = None) -> BatchPlan:
    """The concurrency that keeps the items' calls just under the tightest quota, and what to expect."""
    # The items run alike enough that the mean item stands for them all.
    count = len(work)
    mean = _mean(work)
    allowed = [(math.floor(TARGET * q.per_minute / mean.per_minute(q)), q) for q in quotas if mean.per_minute(q) > 0]
    # The smallest allowed concurrency binds; ties go to the quota used the most.
    bound = min(allowed, key=lambda pair: (pair[0], -mean.per_minute(pair[1]) / pair[1].per_minute), default=None)
    planned = max(1, min(bound[0] if bound else MAX_BATCH_CONCURRENCY, MAX_BATCH_CONCURRENCY, max(count, 1)))
    concurrency = requested or planned
    binding = bound[1] if bound else None
    use = concurrency * mean.per_minute(binding) if binding else None
    warning = None
    if requested is not None and binding is not None and use is not None and use > binding.per_minute:
        warning = (
            f"concurrency {requested} would use about {use:.0f} {binding.unit} a minute of {binding.name} "
            f"({binding.per_minute:g}): expect throttling, which is retried but slows the batch; "
            f"the quotas allow {planned}"
        )
    waves = math.ceil(count / concurrency) if count else 0
    return BatchPlan(
        concurrency=concurrency,
        planned=planned,
        requested=requested,
        items=count,
        item_s=round(mean.seconds, 3),
        duration_s=round(waves * mean.seconds, 3),
        images_per_minute=round(concurrency * mean.image_calls * 60 / mean.seconds, 3),
        binding=binding,
        binding_per_minute=round(use, 3) if use is not None else None,
        quotas=quotas,
        settings=settings,
        warning=warning,
    )


def _mean(work: list[ItemWork]) -> ItemWork:
    if not work:
        return ItemWork(image_calls=1, text_calls=1, seconds=1.0)
    count = len(work)
    return ItemWork(
        image_calls=sum(w.image_calls for w in work) / count,
        text_calls=sum(w.text_calls for w in work) / count,
        seconds=sum(w.seconds for w in work) / count,
    )


def duration_text(seconds: float) -> str:
    """A duration as a person reads it: seconds, minutes or hours."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"

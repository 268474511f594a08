"""The batch's plan at its start: the account's Bedrock quotas for the models the batch calls (from Service
Quotas), the items' budgets, and from them the concurrency the Distributed Map runs at (common.quotas)."""

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common.batches import BatchItem
from common.catalogue import base_model_id
from common.observability import logger
from common.quotas import (
    DEFAULT_IMAGE_REQUESTS_PER_MINUTE,
    DEFAULT_TEXT_TOKENS_PER_MINUTE,
    QUOTA_MODEL_NAMES,
    UNCONFIRMED,
    BatchPlan,
    ItemWork,
    PlanSettings,
    Quota,
    QuotaUnit,
    Role,
    plan,
)
from common.request import RunRequest
from common.settings import Settings

BEDROCK = "bedrock"  # Service Quotas' code for Amazon Bedrock
_UNITS: dict[QuotaUnit, str] = {"requests": "requests per minute", "tokens": "tokens per minute"}


def batch_plan(
    items: list[BatchItem], requested: int | None, given: PlanSettings | None, settings: Settings, quotas: Any
) -> BatchPlan:
    """The plan for the items this execution runs. `given` (the batch request's) wins over the deployment's
    settings, and a quota either names wins over the account's."""
    chosen = given.over(settings.batch_plan) if given else settings.batch_plan
    models: dict[Role, str] = {"image": settings.generator_model_id, "text": settings.validator_model_id}
    overrides = chosen.overrides(models)
    overridden = {(q.role, q.unit) for q in overrides}
    found = [q for q in account_quotas(quotas, models) if (q.role, q.unit) not in overridden]
    work = [_work(item.request, chosen) for item in items if item.request is not None]
    return plan(work, [*overrides, *found], chosen, requested or settings.batch_concurrency)


def account_quotas(client: Any, models: dict[Role, str]) -> list[Quota]:
    """The per-minute quotas on each model: the account's applied values, else AWS's defaults (Service Quotas
    lists a quota among the applied ones only once it has an applied value); the unconfirmed defaults for a
    model neither lists, or for every model when Service Quotas cannot be read (no permission, say)."""
    try:
        applied = _matching(_listed(client, "list_service_quotas"), models)
        missing = {role: model_id for role, model_id in models.items() if role not in {q.role for q in applied}}
        aws = _matching(_listed(client, "list_aws_default_service_quotas"), missing) if missing else []
    except (ClientError, BotoCoreError) as error:
        code = error.response["Error"]["Code"] if isinstance(error, ClientError) else type(error).__name__
        logger.warning("Service Quotas could not be read; the plan uses its defaults", extra={"error": code})
        return _defaults(models, f"{UNCONFIRMED}: Service Quotas could not be read ({code})")
    found = [*applied, *aws]
    unlisted = {role: model_id for role, model_id in models.items() if role not in {q.role for q in found}}
    return found + _defaults(unlisted, f"{UNCONFIRMED}: Service Quotas lists none for the model")


def _listed(client: Any, operation: str) -> list[dict[str, Any]]:
    pages = client.get_paginator(operation).paginate(ServiceCode=BEDROCK)
    return [quota for page in pages for quota in page.get("Quotas", [])]


def _matching(listed: list[dict[str, Any]], models: dict[Role, str]) -> list[Quota]:
    found = (_quota(entry, role, model_id) for role, model_id in models.items() for entry in listed)
    return [quota for quota in found if quota is not None]


def _quota(entry: dict[str, Any], role: Role, model_id: str) -> Quota | None:
    """The entry as a quota on this model, when its name is one: "<On-demand|Cross-Region> InvokeModel
    <requests|tokens> per minute for <the model's name>"."""
    name = str(entry.get("QuotaName", ""))
    lowered = name.lower()
    base = base_model_id(model_id)
    scope = "on-demand" if base == model_id else "cross-region"
    spellings = QUOTA_MODEL_NAMES.get(base, ())
    if not lowered.startswith(scope) or not any(lowered.endswith(f"for {s.lower()}") for s in spellings):
        return None
    unit = next((u for u, words in _UNITS.items() if words in lowered), None)
    value = entry.get("Value")
    if unit is None or not isinstance(value, int | float) or value <= 0:
        return None
    code = entry.get("QuotaCode", "")
    return Quota(
        model_id=model_id, role=role, name=name, unit=unit, per_minute=value, source="service-quotas", note=code
    )


def _defaults(models: dict[Role, str], note: str) -> list[Quota]:
    quotas = []
    for role, model_id in models.items():
        unit: QuotaUnit = "requests" if role == "image" else "tokens"
        value = DEFAULT_IMAGE_REQUESTS_PER_MINUTE if role == "image" else DEFAULT_TEXT_TOKENS_PER_MINUTE
        name = f"InvokeModel {_UNITS[unit]} for {model_id}"
        quotas.append(
            Quota(model_id=model_id, role=role, name=name, unit=unit, per_minute=value, source="default", note=note)
        )
    return quotas


def _work(request: dict[str, Any], settings: PlanSettings) -> ItemWork:
    """The item's budget, from its request's fields (an item's request is checked when it runs, not here)."""
    fields = RunRequest.model_fields

    def budget(name: str) -> int:
        value = request.get(name)
        default = fields[name].default
        return value if isinstance(value, int) and value >= 0 else int(default)

    return ItemWork.of(
        max(1, budget("candidates")), max(1, budget("max_retry_attempts")), budget("max_prompt_revisions"), settings
    )

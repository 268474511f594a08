"""The batch's plan: its arithmetic, the quotas it reads from Service Quotas (and its defaults when it cannot),
and the stand-in's quota, which throttles past its rate as Bedrock does."""

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from common.quotas import ItemWork, PlanSettings, Quota, plan
from imgloop.local.standin.quota import QuotaMeter, Quotas
from save.plan import account_quotas

IMAGE = "stability.sd3-5-large-v1:0"
JUDGE = "us.anthropic.claude-sonnet-4-6"
MODELS: Any = {"image": IMAGE, "text": JUDGE}
SETTINGS = PlanSettings()  # 8 s image, 3 s judge, 3 s reviser, 1 s orchestration an attempt


def _quota(role: Any, unit: Any, per_minute: float) -> Quota:
    model = IMAGE if role == "image" else JUDGE
    return Quota(
        model_id=model, role=role, name=f"{unit} for {model}", unit=unit, per_minute=per_minute, source="override"
    )


def test_one_image_items_run_just_under_the_image_models_requests_per_minute() -> None:
    # One attempt: 8 + 3 + 1 = 12 s, one image call: 5 a minute per running item. 0.95 x 60 / 5 = 11.4.
    work = [ItemWork.of(1, 1, 0, SETTINGS)] * 100
    planned = plan(work, [_quota("image", "requests", 60), _quota("text", "tokens", 1_000_000)], SETTINGS)

    assert (planned.concurrency, planned.planned, planned.item_s) == (11, 11, 12.0)
    assert planned.binding is not None and planned.binding.role == "image"
    assert planned.images_per_minute == pytest.approx(55.0)
    assert planned.duration_s == pytest.approx(10 * 12.0)  # 100 items in ceil(100 / 11) = 10 waves
    assert planned.warning is None


def test_candidates_attempts_and_revisions_count_every_call_the_budget_allows() -> None:
    # 2 attempts x 2 revisions+1 = 6 tries of 3 candidates: 18 image calls, 18 judge calls + 2 reviser calls,
    # in 6 x 12 + 2 x 3 = 78 s.
    work = ItemWork.of(3, 2, 2, SETTINGS)
    assert (work.image_calls, work.text_calls, work.seconds) == (18, 20, 78)


def test_the_tightest_quota_binds_a_judges_tokens_per_minute_included() -> None:
    work = [ItemWork.of(1, 1, 0, SETTINGS)] * 50
    # The judge: 5 calls a minute x 2,200 tokens = 11,000 tokens a minute per item; 0.95 x 30,000 / 11,000 = 2.6.
    planned = plan(work, [_quota("image", "requests", 60), _quota("text", "tokens", 30_000)], SETTINGS)
    assert planned.concurrency == 2
    assert planned.binding is not None and (planned.binding.role, planned.binding.unit) == ("text", "tokens")


def test_an_explicit_concurrency_is_kept_and_warned_about_when_it_would_throttle() -> None:
    work = [ItemWork.of(1, 1, 0, SETTINGS)] * 100
    quotas = [_quota("image", "requests", 20)]
    over = plan(work, quotas, SETTINGS, requested=10)
    under = plan(work, quotas, SETTINGS, requested=2)

    assert (over.concurrency, over.planned) == (10, 3)
    assert over.warning is not None and "expect throttling" in over.warning and "allow 3" in over.warning
    assert under.concurrency == 2 and under.warning is None
    assert "  warning: concurrency 10 would use about 50 requests a minute" in "\n".join(over.lines())


def test_the_plan_stays_within_the_batch_and_the_bound() -> None:
    work = [ItemWork.of(1, 1, 0, SETTINGS)] * 3
    assert plan(work, [_quota("image", "requests", 10_000)], SETTINGS).concurrency == 3
    assert plan([ItemWork.of(1, 1, 0, SETTINGS)] * 500, [], SETTINGS).concurrency == 100
    assert plan(work, [_quota("image", "requests", 1)], SETTINGS).concurrency == 1


def test_settings_given_win_over_the_deployments() -> None:
    deployment = PlanSettings(image_requests_per_minute=30, image_s=10)
    chosen = PlanSettings(image_requests_per_minute=90).over(deployment)
    assert (chosen.image_requests_per_minute, chosen.image_s, chosen.judge_s) == (90, 10, 3)
    assert [(q.role, q.per_minute, q.source) for q in chosen.overrides(MODELS)] == [("image", 90, "override")]


# Service Quotas.
def _client() -> Any:
    return boto3.client("service-quotas", region_name="us-west-2")


def _entry(name: str, value: float, code: str = "L-1") -> dict[str, Any]:
    return {"ServiceCode": "bedrock", "QuotaCode": code, "QuotaName": name, "Value": value}


def test_the_accounts_quotas_for_the_models_are_read_by_name() -> None:
    client = _client()
    applied = [
        _entry("On-demand InvokeModel requests per minute for SD3.5 Large", 30, "L-A"),
        _entry("On-demand InvokeModel requests per minute for Stable Image Ultra", 99),  # another model
        _entry("Cross-Region InvokeModel tokens per minute for Claude Sonnet 4.6", 400_000, "L-B"),
        _entry("Model invocation max tokens per day for Claude Sonnet 4.6", 9e8),  # not a per-minute quota
    ]
    with Stubber(client) as stub:
        stub.add_response("list_service_quotas", {"Quotas": applied}, {"ServiceCode": "bedrock"})
        found = account_quotas(client, MODELS)
        stub.assert_no_pending_responses()

    assert [(q.role, q.unit, q.per_minute, q.source, q.note) for q in found] == [
        ("image", "requests", 30, "service-quotas", "L-A"),
        ("text", "tokens", 400_000, "service-quotas", "L-B"),
    ]


def test_a_model_with_no_applied_quota_gets_awss_default_then_the_plans() -> None:
    client = _client()
    defaults = [_entry("On-demand InvokeModel requests per minute for SD3.5 Large", 15)]
    with Stubber(client) as stub:
        stub.add_response("list_service_quotas", {"Quotas": []}, {"ServiceCode": "bedrock"})
        stub.add_response("list_aws_default_service_quotas", {"Quotas": defaults}, {"ServiceCode": "bedrock"})
        found = account_quotas(client, MODELS)

    assert [(q.role, q.per_minute, q.source) for q in found] == [
        ("image", 15, "service-quotas"),
        ("text", 200_000, "default"),
    ]
    assert "Service Quotas lists none" in found[1].note


def test_without_permission_to_read_quotas_the_plan_uses_its_defaults() -> None:
    client = _client()
    with Stubber(client) as stub:
        stub.add_client_error("list_service_quotas", "AccessDeniedException", "not authorized", 400)
        found = account_quotas(client, MODELS)

    assert [(q.role, q.unit, q.per_minute, q.source) for q in found] == [
        ("image", "requests", 24, "default"),
        ("text", "tokens", 200_000, "default"),
    ]
    assert all("unconfirmed" in q.note and "AccessDeniedException" in q.note for q in found)


# The stand-in's quota.
def test_the_standins_quota_throttles_past_its_rate_until_the_scaled_minute_has_passed() -> None:
    now = [0.0]
    meter = QuotaMeter(Quotas({IMAGE: 3}, time_scale=0.1), clock=lambda: now[0])  # a minute lasts 6 s here

    assert [meter.admit(IMAGE) for _ in range(4)] == [True, True, True, False]
    assert meter.admit(JUDGE)  # no quota on it
    now[0] = 5.9
    assert not meter.admit(IMAGE)
    now[0] = 6.0
    assert meter.admit(IMAGE) and meter.throttled == 2


def test_the_standin_lists_its_quotas_as_service_quotas_names_them() -> None:
    client = _client()
    client.meta.events.register("before-call.service-quotas.*", QuotaMeter(Quotas({IMAGE: 12, JUDGE: 40})).listed)
    found = account_quotas(client, MODELS)
    assert [(q.name, q.per_minute) for q in found] == [
        ("On-demand InvokeModel requests per minute for SD3.5 Large", 12),
        ("Cross-Region InvokeModel requests per minute for Claude Sonnet 4.6", 40),
    ]

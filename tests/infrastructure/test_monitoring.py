"""The dashboard, the alarms and their topic, and the opt-in completion notices."""

import json
from typing import Any

from common.names import METRICS_NAMESPACE, MetricNames
from tests.infrastructure.helpers import resources


def _alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources(template, "AWS::CloudWatch::Alarm").items()}


def _dashboard_body(template: dict[str, Any]) -> str:
    [dashboard] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = dashboard["Properties"]["DashboardBody"]
    # CloudFormation joins the body from strings and references; the text is what the widgets say.
    return "".join(part if isinstance(part, str) else json.dumps(part) for part in body["Fn::Join"][1])


def test_the_dashboard_shows_executions_functions_bedrock_and_our_own_metrics(template: dict[str, Any]) -> None:
    body = _dashboard_body(template)
    for title in (
        "Executions: Loop",
        "Executions: Batch",
        "Function errors",
        "Function duration (p90)",
        "Bedrock invocations",
        "Bedrock throttles",
        "Bedrock latency (average)",
        "Images by model",
        "Spend (USD) by model and role",
    ):
        assert f'"title":"{title}"' in body, title
    for metric in ("ExecutionsStarted", "ExecutionsSucceeded", "ExecutionsFailed", "ExecutionThrottled"):
        assert f'"AWS/States","{metric}"' in body, metric
    assert '"AWS/Bedrock","InvocationThrottles","ModelId","stability.sd3-5-large-v1:0"' in body
    for metric in (MetricNames.GENERATED, MetricNames.ACCEPTED, MetricNames.REJECTED, MetricNames.REFUSED):
        assert f"SEARCH('{{{METRICS_NAMESPACE},Model,service}} MetricName=\\\"{metric}\\\"'" in body, metric
    assert f'{{{METRICS_NAMESPACE},Model,Role,service}} MetricName=\\"SpendUSD\\"' in body
    assert f'"{METRICS_NAMESPACE}","{MetricNames.ATTEMPTS_TO_ACCEPTANCE}"' in body


def test_alarms_on_failures_errors_throttling_and_daily_spend_notify_one_encrypted_topic(
    template: dict[str, Any],
) -> None:
    alarms = _alarms(template)
    [topic] = resources(template, "AWS::SNS::Topic")
    assert "KmsMasterKeyId" in template["Resources"][topic]["Properties"]
    by_metric = {(a.get("Namespace"), a.get("MetricName")): a for a in alarms.values()}
    assert ("AWS/States", "ExecutionsFailed") in by_metric
    assert len([a for a in alarms.values() if a.get("MetricName") == "Errors"]) == 4  # one per function of the loop
    assert len([a for a in alarms.values() if a.get("MetricName") == "ExecutionsFailed"]) == 2
    throttling = by_metric[("AWS/Bedrock", "InvocationThrottles")]
    assert throttling["Threshold"] == 1
    spend = by_metric[(METRICS_NAMESPACE, MetricNames.SPEND)]
    assert (spend["Period"], spend["Statistic"], spend["Threshold"]) == (86400, "Sum", 20)
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [{"Ref": topic}]
    assert not resources(template, "AWS::SNS::Subscription")
    assert not resources(template, "AWS::Events::Rule")


def test_the_context_sets_the_spend_threshold_an_email_and_completion_notices(
    variant: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    template, report = variant
    spend = [a for a in _alarms(template).values() if a.get("MetricName") == MetricNames.SPEND]
    assert spend[0]["Threshold"] == 40
    [subscription] = resources(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    [rule] = resources(template, "AWS::Events::Rule").values()
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert pattern["detail"]["status"] == ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]
    assert len(pattern["detail"]["stateMachineArn"]) == 2
    functions = resources(template, "AWS::Lambda::Function").values()
    loop = [f for f in functions if f["Properties"].get("Handler") == "save.handler.handler"]
    assert loop[0]["Properties"]["Environment"]["Variables"]["MAX_COST_USD"] == "2.5"
    assert all(not plugin["violations"] for plugin in report["pluginReports"])

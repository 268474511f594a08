"""Watching the stack in the account: a CloudWatch dashboard, alarms that notify an SNS topic, and
(opt-in) a notice on that topic when a run or a batch ends.

The dashboard shows the executions (AWS/States), the functions' errors and durations, Bedrock's
invocations, throttles and latency for the models the stack may call (AWS/Bedrock), and this project's
own metrics (common.names.MetricNames: images made, accepted, rejected and refused by model; spend by
model and role; attempts to acceptance), whose by-model breakdown is read with SEARCH expressions.
"""

from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from common.names import METRICS_NAMESPACE, SERVICE_NAME, MetricNames

BEDROCK = "AWS/Bedrock"
FIVE_MINUTES = Duration.minutes(5)
DAY = Duration.days(1)
# The end states a completion notice is sent for.
ENDED = ["SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"]


@dataclass(frozen=True)
class MonitoringSettings:
    """What cdk.json's context chooses (common.names.Context): the spend per day that raises the alarm, an
    address the topic e-mails, and whether runs' and batches' ends are announced on the topic."""

    daily_spend_usd: float
    alarm_email: str | None
    notify_completions: bool


def _own(metric: str, statistic: str = "Sum", period: Duration = FIVE_MINUTES) -> cw.Metric:
    """A total of the project's own metrics (the functions' `service` dimension only)."""
    return cw.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=metric,
        dimensions_map={"service": SERVICE_NAME},
        statistic=statistic,
        period=period,
    )


def _by_model(
    metric: str, label: str, statistic: str = "Sum", dimensions: str = MetricNames.MODEL
) -> cw.MathExpression:
    """The project's metric per model (and role), whatever models the runs used."""
    return cw.MathExpression(
        expression=(
            f"SEARCH('{{{METRICS_NAMESPACE},{dimensions},service}} MetricName=\"{metric}\"', '{statistic}', 300)"
        ),
        label=label,
        period=FIVE_MINUTES,
    )


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        id: str,
        machines: dict[str, sfn.StateMachine],
        functions: dict[str, lambda_.Function],
        models: list[str],
        settings: MonitoringSettings,
    ) -> None:
        super().__init__(scope, id)
        # CloudWatch and EventBridge publish to an encrypted topic only with a customer managed key
        # that lets them use it.
        key = kms.Key(self, "TopicKey", enable_key_rotation=True, description="imgloop alarm topic")
        for service in ("cloudwatch.amazonaws.com", "events.amazonaws.com"):
            key.grant(iam.ServicePrincipal(service), "kms:Decrypt", "kms:GenerateDataKey*")
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True, display_name="imgloop alarms")
        if settings.alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(settings.alarm_email))
        self.alarms = self._alarms(machines, functions, settings.daily_spend_usd)
        self.dashboard = self._dashboard(machines, functions, models)
        if settings.notify_completions:
            self._notify_completions(machines)

    def _alarms(
        self, machines: dict[str, sfn.StateMachine], functions: dict[str, lambda_.Function], daily_spend: float
    ) -> list[cw.Alarm]:
        alarms = [
            self._alarm(
                f"{name}FailedExecutions",
                machine.metric_failed(period=FIVE_MINUTES),
                f"an execution of the {name} state machine failed",
            )
            for name, machine in machines.items()
        ]
        alarms += [
            self._alarm(
                f"{name.capitalize()}Errors",
                function.metric_errors(period=FIVE_MINUTES),
                f"the {name} function raised an error (a run's task may be retried or failed)",
            )
            for name, function in functions.items()
        ]
        # Bedrock also publishes its metrics across all models (no ModelId dimension): one alarm for any
        # model's throttling, since an alarm's math may not SEARCH.
        throttles = cw.Metric(
            namespace=BEDROCK, metric_name="InvocationThrottles", statistic="Sum", period=FIVE_MINUTES
        )
        alarms.append(
            self._alarm(
                "BedrockThrottling", throttles, "Bedrock throttled this account's model calls (quotas: docs/batches.md)"
            )
        )
        alarms.append(
            self._alarm(
                "DailySpend",
                _own(MetricNames.SPEND, period=DAY),
                f"the model calls of a day cost more than ${daily_spend:g} (docs/cost.md)",
                threshold=daily_spend,
                comparison=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
            )
        )
        return alarms

    def _alarm(
        self,
        construct_id: str,
        metric: cw.IMetric,
        description: str,
        threshold: float = 1,
        comparison: cw.ComparisonOperator = cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) -> cw.Alarm:
        """An alarm on one period of the metric, missing data as fine, notifying the topic."""
        alarm = cw.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=comparison,
            treat_missing_data=cw.TreatMissingData.NOT_BREACHING,
            alarm_description=description,
        )
        alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
        return alarm

    def _dashboard(
        self, machines: dict[str, sfn.StateMachine], functions: dict[str, lambda_.Function], models: list[str]
    ) -> cw.Dashboard:
        # Named after the stack, so a second copy (make e2e's) has its own.
        dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=Stack.of(self).stack_name)
        for row in (_executions_row(machines), _functions_row(functions), _bedrock_row(models), _own_row()):
            dashboard.add_widgets(*row)
        return dashboard

    def _notify_completions(self, machines: dict[str, sfn.StateMachine]) -> None:
        """A notice on the topic whenever a run or a batch ends (the state machines' status-change events)."""
        events.Rule(
            self,
            "Completions",
            description="imgloop: a run or a batch ended",
            event_pattern=events.EventPattern(
                source=["aws.states"],
                detail_type=["Step Functions Execution Status Change"],
                detail={
                    "stateMachineArn": [machine.state_machine_arn for machine in machines.values()],
                    "status": ENDED,
                },
            ),
            targets=[targets.SnsTopic(self.topic)],
        )


def _executions_row(machines: dict[str, sfn.StateMachine]) -> list[cw.IWidget]:
    return [
        cw.GraphWidget(
            title=f"Executions: {name}",
            left=[
                machine.metric_started(period=FIVE_MINUTES),
                machine.metric_succeeded(period=FIVE_MINUTES),
                machine.metric_failed(period=FIVE_MINUTES),
                machine.metric_throttled(period=FIVE_MINUTES),
            ],
            width=12,
        )
        for name, machine in machines.items()
    ]


def _functions_row(functions: dict[str, lambda_.Function]) -> list[cw.IWidget]:
    return [
        cw.GraphWidget(
            title="Function errors",
            left=[f.metric_errors(period=FIVE_MINUTES, label=name) for name, f in functions.items()],
            width=12,
        ),
        cw.GraphWidget(
            title="Function duration (p90)",
            left=[f.metric_duration(period=FIVE_MINUTES, statistic="p90", label=name) for name, f in functions.items()],
            width=12,
        ),
    ]


def _bedrock_row(models: list[str]) -> list[cw.IWidget]:
    def bedrock(metric: str, statistic: str = "Sum") -> list[cw.IMetric]:
        return [
            cw.Metric(
                namespace=BEDROCK,
                metric_name=metric,
                dimensions_map={"ModelId": model},
                statistic=statistic,
                period=FIVE_MINUTES,
                label=model,
            )
            for model in models
        ]

    return [
        cw.GraphWidget(title="Bedrock invocations", left=bedrock("Invocations"), width=8),
        cw.GraphWidget(title="Bedrock throttles", left=bedrock("InvocationThrottles"), width=8),
        cw.GraphWidget(title="Bedrock latency (average)", left=bedrock("InvocationLatency", "Average"), width=8),
    ]


def _own_row() -> list[cw.IWidget]:
    return [
        cw.GraphWidget(
            title="Images by model",
            left=[
                _by_model(MetricNames.GENERATED, "made"),
                _by_model(MetricNames.REFUSED, "refused"),
                _by_model(MetricNames.ACCEPTED, "accepted"),
                _by_model(MetricNames.REJECTED, "rejected"),
            ],
            width=8,
        ),
        cw.GraphWidget(
            title="Spend (USD) by model and role",
            left=[_by_model(MetricNames.SPEND, "spend", dimensions=f"{MetricNames.MODEL},{MetricNames.ROLE}")],
            width=8,
        ),
        cw.SingleValueWidget(
            title="Spend (USD) today, attempts to acceptance (average)",
            metrics=[
                _own(MetricNames.SPEND, period=DAY),
                _own(MetricNames.ATTEMPTS_TO_ACCEPTANCE, "Average", DAY),
            ],
            width=8,
        ),
    ]

"""The project's own metrics by model and role (EMF, namespace common.names.METRICS_NAMESPACE).

Each figure goes out twice: in the invocation's metrics (`common.observability.metrics`, dimension
`service` only), a total that an alarm can watch (alarms take no SEARCH expression), and with the model
and its role as dimensions, for the dashboard's breakdown. Powertools applies a Metrics object's
dimensions to all its metrics, so the breakdown is flushed from a metrics object of its own."""

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from common.names import METRICS_NAMESPACE, SERVICE_NAME, MetricNames
from common.observability import metrics
from common.prices import to_usd


def record(name: str, model: str, role: str, value: float = 1, unit: MetricUnit = MetricUnit.Count) -> None:
    metrics.add_metric(name=name, unit=unit, value=value)
    breakdown = EphemeralMetrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
    breakdown.add_dimension(name=MetricNames.MODEL, value=model)
    breakdown.add_dimension(name=MetricNames.ROLE, value=role)
    breakdown.add_metric(name=name, unit=unit, value=value)
    breakdown.flush_metrics()


def spent(model: str, role: str, usd_micro: int) -> None:
    """What a model call cost, in dollars (CloudWatch has no currency unit)."""
    if usd_micro:
        record(MetricNames.SPEND, model, role, to_usd(usd_micro), MetricUnit.NoUnit)

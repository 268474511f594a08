"""The stack: storage and workflow, with the outputs a user needs to start and inspect runs."""

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from common import names
from common.names import Context, Outputs
from common.quotas import PlanSettings
from infra.api import GenerationsApi
from infra.monitoring import Monitoring, MonitoringSettings
from infra.storage import ImageStorage
from infra.workflow import ImageLoopWorkflow


class ImageLoopStack(Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        storage = ImageStorage(self, "Storage")
        node = self.node
        generator = node.try_get_context(Context.GENERATOR_MODEL) or names.DEFAULT_GENERATOR_MODEL
        self.workflow = ImageLoopWorkflow(
            self,
            "Workflow",
            bucket=storage.bucket,
            extra_buckets=list(node.try_get_context(Context.EXTRA_BUCKETS) or []),
            models={
                "generator": generator,
                "validator": node.try_get_context(Context.VALIDATOR_MODEL) or names.DEFAULT_VALIDATOR_MODEL,
                "reviser": node.try_get_context(Context.REVISER_MODEL) or names.DEFAULT_REVISER_MODEL,
            },
            allowed_models=list(node.get_context(Context.ALLOWED_MODELS)),
            powertools_layer_arn=node.try_get_context(Context.POWERTOOLS_LAYER),
            batch_concurrency=int(node.try_get_context(Context.BATCH_CONCURRENCY) or 0) or None,
            batch_plan=PlanSettings.model_validate(node.try_get_context(Context.BATCH_PLAN) or {}).model_dump(
                exclude_unset=True
            ),
        )
        max_cost = node.try_get_context(Context.MAX_COST)
        if max_cost is not None:
            # Only Check input reads it; every function gets it, as they get the rest of the settings.
            for function in self.workflow.functions.values():
                function.add_environment("MAX_COST_USD", str(float(max_cost)))
        workflow = self.workflow
        Monitoring(
            self,
            "Monitoring",
            machines={"Loop": workflow.state_machine, "Batch": workflow.batch_machine},
            functions=workflow.functions,
            models=list(node.get_context(Context.ALLOWED_MODELS)),
            settings=MonitoringSettings(
                daily_spend_usd=float(
                    node.try_get_context(Context.DAILY_SPEND_ALARM) or names.DEFAULT_DAILY_SPEND_ALARM_USD
                ),
                alarm_email=node.try_get_context(Context.ALARM_EMAIL),
                notify_completions=bool(node.try_get_context(Context.NOTIFY_COMPLETIONS)),
            ),
        )
        api = GenerationsApi(
            self,
            "Api",
            state_machine=self.workflow.state_machine,
            batch_machine=self.workflow.batch_machine,
            bucket=storage.bucket,
            factory=self.workflow.factory,
            auth=node.try_get_context(Context.API_AUTH) or "iam",
            default_generator=generator,
            extra_buckets=list(node.try_get_context(Context.EXTRA_BUCKETS) or []),
        )
        CfnOutput(self, Outputs.API_URL, value=api.url)
        CfnOutput(self, Outputs.BUCKET, value=storage.bucket.bucket_name)
        CfnOutput(self, Outputs.STATE_MACHINE, value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(self, Outputs.BATCH_STATE_MACHINE, value=self.workflow.batch_machine.state_machine_arn)

"""The stack: storage and workflow, with the outputs a user needs to start and inspect runs."""

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra import constants as c
from infra.api import GenerationsApi
from infra.storage import ImageStorage
from infra.workflow import ImageLoopWorkflow


class ImageLoopStack(Stack):
    def __init__(self, scope: Construct, id: str, **kwargs: Any) -> None:
        super().__init__(scope, id, **kwargs)
        storage = ImageStorage(self, "Storage")
        node = self.node
        self.workflow = ImageLoopWorkflow(
            self,
            "Workflow",
            bucket=storage.bucket,
            extra_buckets=list(node.try_get_context(c.CTX_EXTRA_BUCKETS) or []),
            models={
                "generator": node.get_context(c.CTX_GENERATOR_MODEL),
                "validator": node.get_context(c.CTX_VALIDATOR_MODEL),
                "reviser": node.get_context(c.CTX_REVISER_MODEL),
            },
            allowed_models=list(node.get_context(c.CTX_ALLOWED_MODELS)),
            powertools_layer_arn=node.try_get_context(c.CTX_POWERTOOLS_LAYER),
            batch_concurrency=int(node.try_get_context(c.CTX_BATCH_CONCURRENCY) or c.DEFAULT_BATCH_CONCURRENCY),
        )
        api = GenerationsApi(
            self,
            "Api",
            state_machine=self.workflow.state_machine,
            batch_machine=self.workflow.batch_machine,
            bucket=storage.bucket,
            factory=self.workflow.factory,
            auth=node.try_get_context(c.CTX_API_AUTH) or "iam",
            default_generator=node.get_context(c.CTX_GENERATOR_MODEL),
            extra_buckets=list(node.try_get_context(c.CTX_EXTRA_BUCKETS) or []),
        )
        CfnOutput(self, "ApiUrl", value=api.url)
        CfnOutput(self, "BucketName", value=storage.bucket.bucket_name)
        CfnOutput(self, "StateMachineArn", value=self.workflow.state_machine.state_machine_arn)
        CfnOutput(self, "BatchStateMachineArn", value=self.workflow.batch_machine.state_machine_arn)

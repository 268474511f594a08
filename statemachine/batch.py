"""The batch as Amazon States Language (JSONPath): read the items, run the image loop on each in a
Distributed Map (one child execution per item, its own history in the console), write the manifest.

The loop is the one `ImageLoopDefinition` builds, entered with the item's request and run name and
ending in the outcome the item records, so an item never fails its child execution: the local
interpreter turns a failed child into `null`, and the batch manifest needs every item's outcome.
"""

from functools import partial

from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_stepfunctions as sfn
from aws_cdk import aws_stepfunctions_tasks as tasks
from constructs import Construct

from common.batches import BATCHES_PREFIX, BatchSummary
from common.results import ItemRecorded, OpenedBatch
from statemachine import payloads
from statemachine.definition import BATCH_ITEM, ImageLoopDefinition, LoopFunctions
from statemachine.tasks import MessageStates, RetryPolicy, error_message, explained, lambda_task


class _ItemsReader(sfn.S3JsonItemReader):
    """Reads a batch's item list; the state machine may read only the batches' folder, not every
    image in the bucket as CDK's reader would grant."""

    def __init__(self, bucket: s3.IBucket) -> None:
        super().__init__(bucket=bucket, key=sfn.JsonPath.string_at("$.batch.items_key"))
        self._readable = bucket.arn_for_objects(f"{BATCHES_PREFIX}/*")

    def provide_policy_statements(self) -> list[iam.PolicyStatement]:
        return [iam.PolicyStatement(actions=["s3:GetObject"], resources=[self._readable])]


# What one iteration keeps of its result: nothing (the item's record is in S3), so the Map's
# result stays a few bytes per item whatever the batch's size.
_NOTHING = sfn.Result.from_object({})


class BatchDefinition(Construct):
    def __init__(
        self, scope: Construct, id: str, functions: LoopFunctions, retry: RetryPolicy, bucket: s3.IBucket
    ) -> None:
        super().__init__(scope, id)
        task = partial(lambda_task, self, retry)

        read = task("Read the batch", functions.save, payloads.open_batch(), "$", OpenedBatch)
        explain = explained(self, "Explain the rejected batch")
        read.add_catch(
            explain.next(sfn.Fail(self, "Batch rejected", error="InvalidInput", cause_path="$.detail.errorMessage")),
            errors=["InvalidInput"],
        )
        failed = error_message(
            self,
            MessageStates(
                "Is the batch's error a function's?",
                "Read the batch's error",
                "Keep the batch's cause",
                "Is the batch's error Step Functions'?",
                "Name the batch's error ours",
            ),
            sfn.Fail(self, "Batch failed", error_path="$.Error", cause_path="$.detail.errorMessage"),
        )
        read.add_catch(failed, errors=["States.ALL"])

        run_items = sfn.DistributedMap(
            self,
            "Run the items",
            item_reader=_ItemsReader(bucket),
            item_selector={
                "item": sfn.JsonPath.object_at("$$.Map.Item.Value"),
                "batch": sfn.JsonPath.object_at("$.batch"),
            },
            max_concurrency_path=sfn.JsonPath.string_at("$.batch.concurrency"),
            # Items end with their outcome and do not fail; should a child fail anyway (on AWS), the
            # Map Run goes on, and "Write the batch manifest" counts the item as not recorded.
            tolerated_failure_count_path=sfn.JsonPath.string_at("$.batch.items"),
            label="items",
            result_path=sfn.JsonPath.DISCARD,
        )
        run_items.item_processor(self._item(functions, retry, task))
        run_items.add_catch(failed, errors=["States.ALL"])

        close = task("Write the batch manifest", functions.save, payloads.close_batch(), "$", BatchSummary)
        close.add_catch(failed, errors=["States.ALL"])
        self.start = read.next(run_items).next(close)

    def _item(self, functions: LoopFunctions, retry: RetryPolicy, task: partial[tasks.LambdaInvoke]) -> sfn.Chain:
        """One item: the image loop on its request (unless it succeeded before or its line could not be
        read), then its outcome filed in S3."""
        record = task("Record the item", functions.save, payloads.record_item(), "$.recorded", ItemRecorded)
        # Not recorded after its retries: the batch manifest says so (ItemNotRecorded), from the list.
        record.add_catch(sfn.Pass(self, "Item not recorded", result=_NOTHING), errors=["States.ALL"])
        record.next(sfn.Pass(self, "Item done", result=_NOTHING))
        unreadable = self._failed_outcome("Line not readable", "InvalidInput", sfn.JsonPath.string_at("$.item.error"))
        return sfn.Chain.start(
            sfn.Choice(self, "Run this item?")
            .when(
                sfn.Condition.boolean_equals("$.item.skip", True), sfn.Pass(self, "Succeeded before", result=_NOTHING)
            )
            .when(sfn.Condition.is_string("$.item.error"), unreadable.next(record))
            .otherwise(self._run_loop(functions, retry, then=record))
        )

    def _run_loop(self, functions: LoopFunctions, retry: RetryPolicy, then: sfn.IChainable) -> sfn.Parallel:
        """The loop on the item's request, in a Parallel that keeps its outcome (should the loop break
        anyway, the error is the item's outcome), then `then`."""
        loop = ImageLoopDefinition(self, "Loop", functions, retry, BATCH_ITEM)
        run_loop = sfn.Parallel(
            self,
            "Run the image loop",
            result_selector={"outcome": sfn.JsonPath.object_at("$[0]")},
            result_path="$.ran",
        )
        run_loop.branch(loop.start)
        broke = self._failed_outcome(
            "Item broke", sfn.JsonPath.string_at("$.failure.Error"), sfn.JsonPath.string_at("$.failure.Cause")
        )
        run_loop.add_catch(broke.next(then), errors=["States.ALL"], result_path="$.failure")
        run_loop.next(then)
        return run_loop

    def _failed_outcome(self, name: str, error: str, cause: str) -> sfn.Pass:
        return sfn.Pass(
            self,
            name,
            parameters={"outcome": {"status": "FAILED", "error": error, "cause": cause}},
            result_path="$.ran",
        )

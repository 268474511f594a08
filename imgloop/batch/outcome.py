"""What a batch execution came to, as the batch commands print it (human lines or one JSON object), the
exit code they end with, and what the batch report's header says.

Exit codes: 0 when the batch ran and every item it ran succeeded (items skipped because they succeeded
before count as succeeded), 1 when an item failed or the batch itself failed, timed out or was aborted.
A batch still running (`batch-status` without --wait) is 0: its status was told.
"""

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from common.batches import BatchCounts
from common.quotas import BatchPlan
from imgloop.batch.folder import MANIFEST, FetchedBatch, batch_summary
from imgloop.batch.progress import BatchFollower
from imgloop.runs.executions import Execution

# At most this many failed items are listed in the human output; the manifest and the report have all.
FAILURES_LISTED = 10


@dataclass(frozen=True)
class BatchOutcome:
    batch: str
    execution: Execution
    counts: BatchCounts
    message: str
    errors: dict[str, int]  # failed items by error name, once the batch has ended
    fetched: FetchedBatch | None = None
    report: Path | None = None
    plan: BatchPlan | None = None  # the concurrency it runs at and why, once "Read the batch" has planned it

    @property
    def ended(self) -> bool:
        return self.execution.status != "RUNNING"

    @property
    def exit_code(self) -> int:
        if not self.ended:
            return 0
        return 0 if self.execution.status == "SUCCEEDED" and self.counts.failed == 0 else 1

    @property
    def manifest(self) -> Path | None:
        return self.fetched.manifest if self.fetched else None

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.execution.status,
            "batch": self.batch,
            "execution": self.execution.execution_arn,
            **self.counts.model_dump(),
            "manifest": str(self.manifest) if self.manifest else None,
            "report": str(self.report) if self.report else None,
            "error": self.execution.error,
            "cause": self.execution.cause,
            "plan": self.plan.model_dump(mode="json") if self.plan else None,
        }

    def lines(self) -> list[str]:
        """The closing lines of the human output."""
        lines = [f"batch {self.batch}, execution {self.execution.name}: {self.execution.status}", self.message]
        lines += self.plan.lines() if self.plan else []
        if self.execution.error:
            lines += [f"error: {self.execution.error}", f"cause: {self.execution.cause}"]
        failed = [item for item in (self.fetched.items if self.fetched else []) if item.status == "FAILED"]
        for item in failed[:FAILURES_LISTED]:
            # An input error's cause already starts with its line.
            where = "" if (item.cause or "").startswith(f"line {item.line}:") else f"line {item.line}, "
            lines.append(f"  failed: {where}item {item.id}: {item.error}: {item.cause}")
        if len(failed) > FAILURES_LISTED:
            lines.append(f"  ... and {len(failed) - FAILURES_LISTED} more failed item(s): see the manifest")
        if self.manifest:
            lines.append(f"manifest: {self.manifest}")
        elif self.fetched:
            lines.append(f"manifest: none yet (the batch writes {MANIFEST} when it ends)")
        if self.report:
            lines.append(f"report:   {self.report}")
        return lines


def outcome_of(follower: BatchFollower, execution: Execution, fetched: FetchedBatch | None) -> BatchOutcome:
    """The outcome, with the counts the batch ended with, else (still running, or failed) the progress's."""
    batch = follower.batch_name()
    summary = batch_summary(execution)
    plan = follower.opened.plan if follower.opened else None
    if summary is not None:
        counts = BatchCounts.model_validate(summary.model_dump())
        return BatchOutcome(batch, execution, counts, summary.message, summary.errors, fetched, plan=plan)
    progress = follower.progress
    if progress is None:
        counts = BatchCounts(items=0, succeeded=0, failed=0, skipped=0, images=0)
        return BatchOutcome(batch, execution, counts, "The batch's items were not read.", {}, fetched)
    counts = BatchCounts.model_validate(asdict(progress))
    word = "so far" if execution.status == "RUNNING" else "when the batch stopped"
    return BatchOutcome(batch, execution, counts, f"{progress.line()} ({word}).", {}, fetched, plan=plan)

"""The batch report: one page, OUT/<batch>/report.html, with one tile per item linking to its own report.

A batch may have thousands of items, so unlike a run's report the page does not embed its images: each
tile shows the item's winner (or its best image so far) from the item's folder beside the page, by a
relative path, loaded lazily. The style is inline and there is no script, so the folder opens anywhere,
copied or zipped as a whole. Rendered by jinja2 with autoescaping: prompts, ids and causes are data.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from common.batches import ItemRecord
from common.quotas import BatchPlan
from imgloop.batch.folder import ITEMS, FetchedBatch, picture
from imgloop.batch.outcome import BatchOutcome
from imgloop.pages import PAGES
from imgloop.runs.executions import REPORT_FILE

PAGE = REPORT_FILE
_PAGE = PAGES.get_template("batch.html.j2")


@dataclass(frozen=True)
class _Tile:
    id: str
    line: int
    status: str  # css class: succeeded, failed or skipped
    label: str
    picture: str | None  # relative to the page
    chosen: str  # what the picture is: WINNER or BEST SO FAR
    report: str | None  # the item's own report, relative to the page
    prompt: str | None
    images: int
    score: int | None
    error: str | None
    cause: str | None


def _status(outcome: BatchOutcome) -> tuple[str, str]:
    """The header's status label and its css class."""
    status = outcome.execution.status
    if status == "RUNNING":
        return "Running", "running"
    if status != "SUCCEEDED":
        return status.replace("_", " ").capitalize(), "failed"
    if outcome.counts.failed:
        return f"{outcome.counts.failed} item(s) failed", "failed"
    return "Succeeded", "succeeded"


def _tile(fetched: FetchedBatch, item: ItemRecord) -> _Tile:
    if item.skipped:
        status, label = "skipped", "SKIPPED (succeeded before)"
    else:
        status, label = item.status.lower(), item.status
    report = f"{ITEMS}/{item.id}/{PAGE}"
    return _Tile(
        id=item.id,
        line=item.line,
        status=status,
        label=label,
        picture=picture(fetched.folder, item),
        chosen="WINNER" if item.winner else "BEST SO FAR",
        report=report if (fetched.folder / report).is_file() else None,
        prompt=item.prompt,
        images=item.images,
        score=item.score,
        error=item.error,
        # A succeeded item's cause is its run's message ("Image accepted at ..."), the tile says as much.
        cause=item.cause if item.status == "FAILED" else None,
    )


def _tiles(fetched: FetchedBatch | None) -> list[_Tile]:
    """The items' tiles, failed first (what a person looks at first), each group in the input's order."""
    tiles = [_tile(fetched, item) for item in fetched.items] if fetched else []
    return sorted(tiles, key=lambda tile: tile.status != "failed")


def _plan_facts(plan: BatchPlan) -> list[tuple[str, str]]:
    """The plan the batch ran to: its concurrency, the rate and duration it expected, the quota that bound it."""
    asked = f" (asked for; the quotas allow {plan.planned})" if plan.requested else " (planned from the quotas)"
    facts = [
        ("Concurrency", f"{plan.concurrency}{asked}"),
        ("Expected rate", f"{plan.images_per_minute:.1f} image request(s) a minute"),
        ("Expected duration", f"{plan.duration_s / 60:.1f} min ({plan.item_s:g} s an item, {plan.items} item(s))"),
    ]
    if plan.binding is not None:
        quota = plan.binding
        source = "Service Quotas" if quota.source == "service-quotas" else (quota.note or quota.source)
        facts.append(("Binding quota", f"{quota.name}: {quota.per_minute:g} {quota.unit} a minute ({source})"))
    if plan.warning:
        facts.append(("Plan warning", plan.warning))
    return facts


def render_batch_report(outcome: BatchOutcome) -> str:
    """The page of a fetched batch, to be written into its folder (it links to the files there)."""
    fetched = outcome.fetched
    status, status_class = _status(outcome)
    execution = outcome.execution
    counts = outcome.counts
    facts = [
        ("Execution", execution.name),
        ("Items", f"{counts.items}: {counts.succeeded} succeeded, {counts.failed} failed, {counts.skipped} skipped"),
        ("Images made", str(counts.images)),
        ("Cost", f"${counts.cost_usd:.4f} (the model calls of this execution's runs)"),
    ]
    if outcome.errors:
        facts.append(("Failed by error", ", ".join(f"{name} x{count}" for name, count in outcome.errors.items())))
    if execution.error:
        facts += [("Error", execution.error), ("Cause", str(execution.cause))]
    if outcome.plan is not None:
        facts += _plan_facts(outcome.plan)
    facts.append(("Written", f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC"))
    return _PAGE.render(
        batch=outcome.batch,
        status=status,
        status_class=status_class,
        message=outcome.message,
        facts=facts,
        tiles=_tiles(fetched),
        shown=[
            ("all", counts.items),
            ("succeeded", counts.succeeded),
            ("failed", counts.failed),
            ("skipped", counts.skipped),
        ],
        execution_id=execution.execution_arn,
    )

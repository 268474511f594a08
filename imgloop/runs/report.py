"""A run's report: one self-contained HTML page with every image, verdict and refusal of the run.

One row per prompt revision, one column per attempt, the candidates of an attempt side by side in
its cell. An edit's source image (its mask outlined in red, or the canvas an outpaint grows to) stands
at the top left, beside every attempt. Images are embedded as data: URIs and the style is inline, so
the file opens anywhere. The page is pages/run.html.j2, rendered by jinja2 with autoescaping: every text
from the run (prompts, reasons, refusals, causes) is data, never markup.
"""

import base64
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

from common.manifest import Entry, Manifest
from common.names import EXECUTION_FILE, MANIFEST_FILE
from common.spend import run_cost
from imgloop.pages import PAGES
from imgloop.runs.executions import EDITED_IMAGES

_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_STATUS = {
    "succeeded": "Succeeded",
    "requirements_not_met": "Requirements not met",
    "failed": "Failed",
    "running": "Running",
}
# How an execution that ended outside its record (an unrecorded failure) is shown.
_ENDED = {"FAILED": "failed", "TIMED_OUT": "failed", "ABORTED": "failed"}
_RUN_FILES = (MANIFEST_FILE, EXECUTION_FILE)
_PAGE = PAGES.get_template("run.html.j2")


@dataclass(frozen=True)
class _Figure:
    label: str
    outcome: str
    winner: bool
    picture: str | None  # a data: URI, or None for a placeholder
    placeholder: str
    verdict: str | None  # "pass" or "fail" once judged
    score: int | None
    tag: str  # shown when there is no verdict
    lines: list[tuple[str, str]]  # (css class, text) under the picture


@dataclass(frozen=True)
class _Source:
    """What an edit started from: the source as shown (or None when its file is missing), and its settings."""

    picture: str | None
    lines: list[str]


@dataclass(frozen=True)
class _Row:
    revision: int
    prompt: str
    negative_prompt: str
    cells: list[list[_Figure]] = field(default_factory=list)


def render_report(
    manifest: dict[str, Any], images: Mapping[str, bytes], execution: Mapping[str, Any] | None = None
) -> str:
    """The report page of a run's manifest; images are the run's files keyed by file name (an edit's
    source and mask as source.<ext> and mask.<ext>), execution the summary (status, output, error,
    cause) the execution ended with, when known."""
    return _render(Manifest.model_validate(manifest), images, execution or {})


def find_run(folder: Path) -> Path:
    """The run folder itself, or the one run inside folder (the --out folder a run was written to)."""
    if not folder.is_dir():
        raise ValueError("no such folder")
    if _is_run(folder):
        return folder
    runs = sorted(p for p in folder.iterdir() if p.is_dir() and _is_run(p))
    if not runs:
        raise ValueError("no run there: a run's folder holds manifest.json or execution.json")
    if len(runs) > 1:
        listed = "".join(f"\n  {run}" for run in runs)
        raise ValueError(f"{len(runs)} runs there; give one of them as --local-run:{listed}")
    return runs[0]


def report_from_local_run(run_dir: Path) -> str:
    """The report of a run that `imgloop run --local` or `imgloop fetch` left in run_dir."""
    summary = run_dir / EXECUTION_FILE
    execution = json.loads(summary.read_text(encoding="utf-8")) if summary.is_file() else {}
    if not (run_dir / MANIFEST_FILE).is_file() and execution:
        raise ValueError(
            "the run kept no record (no manifest.json): it ended before opening one, with "
            f"{execution.get('error')}: {execution.get('cause')}"
        )
    run = Manifest.model_validate_json((run_dir / MANIFEST_FILE).read_bytes())
    images = {}
    for name in {_file_name(e) for e in run.entries if e.key}:
        path = run_dir / name
        if path.is_file():
            images[name] = path.read_bytes()
    for name in EDITED_IMAGES.values():
        for path in run_dir.glob(f"{name}.*"):
            images[path.name] = path.read_bytes()
    return _render(run, images, execution)


def _is_run(folder: Path) -> bool:
    return any((folder / name).is_file() for name in _RUN_FILES)


def _render(run: Manifest, images: Mapping[str, bytes], execution: Mapping[str, Any]) -> str:
    status: str = run.status
    if status == "running":
        status = _ENDED.get(str(execution.get("status")), status)
    attempts = range(1, max((e.attempt for e in run.entries), default=0) + 1)
    return _PAGE.render(
        status=_STATUS.get(status, status),
        status_class=status,
        requirement=str(run.request.get("prompt") or run.execution_name),
        facts=_facts(run, execution),
        attempts=attempts,
        rows=[_row(run, revision, attempts, images) for revision in sorted({e.revision for e in run.entries})],
        source=_source(run.request, images),
        execution_id=run.execution_id,
    )


# The source is shown at most this wide or tall: the outline stays visible and the page stays small.
SOURCE_SIDE = 768
OUTLINE = (230, 30, 30)


def _source(request: Mapping[str, Any], images: Mapping[str, bytes]) -> _Source | None:
    """The source panel of an edit (None for a picture drawn from text)."""
    mode = request.get("mode") or "text-to-image"
    source = request.get("source_image")
    if mode == "text-to-image" or not isinstance(source, Mapping):
        return None
    lines = [f"mode: {mode}", f"source: s3://{source.get('bucket')}/{source.get('key')}"]
    mask = request.get("mask_image")
    if isinstance(mask, Mapping):
        lines.append(f"mask (outlined): s3://{mask.get('bucket')}/{mask.get('key')}")
    margins = request.get("outpaint")
    labelled = {"mask_prompt": "mask prompt", "search_prompt": "search", "strength": "strength"}
    lines.extend(f"{label}: {request[field]}" for field, label in labelled.items() if request.get(field) is not None)
    if isinstance(margins, Mapping):
        grown = [f"{side} {margins[side]} px" for side in ("left", "right", "up", "down") if margins.get(side)]
        lines.append("outpaint: " + ", ".join(grown))
    picture = _edited(images, "source")
    if picture is None:
        lines.append("the source's file is not in the run's folder (uploads expire; fetch copies them)")
        return _Source(None, lines)
    shown = _outlined(picture, _edited(images, "mask"), margins if isinstance(margins, Mapping) else None)
    return _Source(f"data:image/png;base64,{base64.b64encode(shown).decode()}", lines)


def _edited(images: Mapping[str, bytes], name: str) -> bytes | None:
    return next((data for file, data in images.items() if PurePosixPath(file).stem == name), None)


def _outlined(source: bytes, mask: bytes | None, margins: Mapping[str, Any] | None) -> bytes:
    """The source with the mask's edge drawn over it in red; for an outpaint, on the canvas it grows to."""
    image = Image.open(io.BytesIO(source)).convert("RGB")
    # Lines thick enough to stay visible when the page shows the picture a few hundred pixels wide.
    line = max(1, max(image.size) // 300)
    if mask is not None:
        region = Image.open(io.BytesIO(mask)).convert("L").resize(image.size).point(lambda v: 255 if v >= 128 else 0)
        edge = region.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(2 * line + 1))
        image.paste(OUTLINE, mask=edge)
    if margins is not None:
        left, right, up, down = (int(margins.get(side) or 0) for side in ("left", "right", "up", "down"))
        canvas = Image.new("RGB", (image.width + left + right, image.height + up + down), (228, 231, 235))
        canvas.paste(image, (left, up))
        frame = (left, up, left + image.width - 1, up + image.height - 1)
        ImageDraw.Draw(canvas).rectangle(frame, outline=OUTLINE, width=2 * line)
        image = canvas
    image.thumbnail((SOURCE_SIDE, SOURCE_SIDE))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _facts(run: Manifest, execution: Mapping[str, Any]) -> list[tuple[str, str]]:
    finished = _when(run.finished_at) if run.finished_at else "not finished"
    duration = _seconds(run.started_at, run.finished_at) if run.finished_at else None
    facts = [
        ("Execution", run.execution_name),
        ("Started", _when(run.started_at)),
        ("Finished", finished + (f" ({duration:.1f} s)" if duration is not None else "")),
        ("Generator", _model(run.request, "generator")),
        ("Validator", _model(run.request, "validator")),
        ("Reviser", _model(run.request, "reviser")),
    ]
    facts.extend(("Retired model replaced", substitution.line) for substitution in run.substitutions)
    facts.append(("Cost", _cost(run)))
    if won := run.winner:
        where = f"revision {won.revision}, attempt {won.attempt}, candidate {won.candidate}"
        facts.append(("Winner", f"{PurePosixPath(won.key).name} ({where})"))
    # The execution's cause is the whole story (what was made, the best image, the manifest); the
    # manifest's failure message is only the error's own text, for runs fetched without it.
    error = execution.get("error") or (run.failure.error if run.failure else None)
    cause = execution.get("cause") or (run.failure.message if run.failure else None)
    if error:
        facts.append(("Error", str(error)))
    if cause:
        facts.append(("Cause", str(cause)))
    return facts


def _row(run: Manifest, revision: int, attempts: range, images: Mapping[str, bytes]) -> _Row:
    entries = [e for e in run.entries if e.revision == revision]
    first = entries[0]
    row = _Row(revision, first.prompt, first.negative_prompt or "(none)")
    for attempt in attempts:
        row.cells.append([_figure(run, e, images) for e in entries if e.attempt == attempt])
    return row


def _figure(run: Manifest, entry: Entry, images: Mapping[str, bytes]) -> _Figure:
    several = int(run.request.get("candidates") or 1) > 1 or entry.candidate > 1
    label = f"r{entry.revision:02d}-a{entry.attempt:02d}" + (f"-c{entry.candidate}" if several else "")
    winner = run.winner is not None and entry.position == (
        run.winner.revision,
        run.winner.attempt,
        run.winner.candidate,
    )
    lines = []
    picture, placeholder, verdict, score, tag = None, "Refused", None, None, "REFUSED"
    if entry.outcome == "refused":
        lines.append(("reason", entry.refusal or "no reason given"))
    else:
        label = _file_name(entry)
        data = images.get(label)
        if data:
            media = _MEDIA_TYPES.get(PurePosixPath(label).suffix.lower(), "application/octet-stream")
            picture = f"data:{media};base64,{base64.b64encode(data).decode()}"
        placeholder, tag = "Image file missing", "NOT JUDGED"
        if entry.verdict is not None:
            verdict, score = ("pass" if entry.verdict.passed else "fail"), entry.verdict.score
            lines.append(("reason", entry.verdict.reason))
    if entry.sent_prompt:
        lines.append(("meta", f"sent as: {entry.sent_prompt}"))
    if entry.note:
        lines.append(("meta", f"note: {entry.note}"))
    offset = _seconds(run.started_at, entry.created_at)
    at = _when(entry.created_at, clock_only=True) + (f" (+{offset:.2f} s)" if offset is not None else "")
    strength = f" \N{MIDDLE DOT} strength {entry.strength}" if entry.strength is not None else ""
    lines.append(("meta", f"{at} \N{MIDDLE DOT} seed {entry.seed}{strength}"))
    spent = entry.cost
    lines.append(("meta", f"cost ${spent.image_usd:.4f} image + ${spent.judge_usd:.4f} judge"))
    return _Figure(label, entry.outcome, winner, picture, placeholder, verdict, score, tag, lines)


def _cost(run: Manifest) -> str:
    """The run's model calls in all, per accepted image and by model (orchestration not counted)."""
    cost = run_cost(run)
    each = f", ${cost.per_accepted_image_usd:.4f} per accepted image" if cost.per_accepted_image_usd else ""
    models = "; ".join(f"{model} ${usd:.4f}" for model, usd in cost.by_model.items())
    return f"${cost.total_usd:.4f}{each}" + (f" ({models})" if models else "")


def _file_name(entry: Entry) -> str:
    return PurePosixPath(entry.key or "").name


def _model(request: Mapping[str, Any], role: str) -> str:
    config = request.get(role)
    model = config.get("model_id") if isinstance(config, Mapping) else None
    return str(model) if model else "-"


def _parse(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _when(value: str, clock_only: bool = False) -> str:
    moment = _parse(value)
    if moment is None:
        return value
    return f"{moment:%H:%M:%S}.{moment.microsecond // 1000:03d}" if clock_only else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _seconds(start: str, end: str | None) -> float | None:
    began, ended = _parse(start), _parse(end or "")
    return (ended - began).total_seconds() if began and ended else None

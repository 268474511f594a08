"""A run's report: one self-contained HTML page with every image, verdict and refusal of the run.

One row per prompt revision, one column per attempt, the candidates of an attempt side by side in
its cell. Images are embedded as data: URIs and the style is inline, so the file opens anywhere.
"""

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any

from common.manifest import Entry, Manifest

_MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}
_STATUS = {
    "succeeded": "Succeeded",
    "requirements_not_met": "Requirements not met",
    "failed": "Failed",
    "running": "Running",
}
_CSS = """
:root { color-scheme: light; --pass: #1a7f37; --fail: #c62828; --muted: #5f6368; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; padding: 24px; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK JP",
  sans-serif; color: #1f2328; background: #f6f8fa; }
header { margin-bottom: 20px; }
h1 { margin: 0 0 12px; font-size: 22px; line-height: 1.3; overflow-wrap: anywhere; }
.status { display: inline-block; margin-right: 8px; padding: 2px 10px; border-radius: 12px; font-size: 14px;
  vertical-align: middle; color: #fff; background: var(--muted); }
.status.succeeded { background: var(--pass); }
.status.failed, .status.requirements_not_met { background: var(--fail); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table.grid { border-collapse: collapse; background: #fff; }
.grid th, .grid td { border: 1px solid var(--line); padding: 10px; vertical-align: top; text-align: left; }
.grid thead th { background: #eaeef2; font-weight: 600; }
.grid tbody th { width: 280px; font-weight: normal; background: #fbfcfd; }
.revision { font-weight: 600; margin-bottom: 6px; }
.prompt, .negative { margin: 0 0 6px; white-space: pre-wrap; overflow-wrap: anywhere; }
.label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; display: block; }
.cell { display: flex; gap: 10px; }
.empty { color: var(--muted); }
figure { width: 220px; margin: 0; padding: 6px; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
figure.winner { border: 3px solid var(--pass); padding: 4px; box-shadow: 0 0 0 3px #b7e4c7; }
figure img { display: block; width: 100%; height: auto; border-radius: 3px; }
.placeholder { display: flex; align-items: center; justify-content: center; aspect-ratio: 1; border-radius: 3px;
  color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .06em;
  background: repeating-linear-gradient(45deg, #f1f3f4, #f1f3f4 10px, #e4e7ea 10px, #e4e7ea 20px); }
figcaption { margin-top: 6px; font-size: 13px; }
figcaption p { margin: 4px 0 0; overflow-wrap: anywhere; }
.verdict { display: flex; flex-wrap: wrap; gap: 6px; align-items: baseline; }
.tag { padding: 0 6px; border-radius: 4px; font-weight: 700; font-size: 12px; color: #fff; background: var(--muted); }
.tag.pass { background: var(--pass); }
.tag.fail { background: var(--fail); }
.tag.winner { background: #0b57d0; }
.name, .meta { color: var(--muted); font-size: 12px; }
footer { margin-top: 16px; color: var(--muted); font-size: 12px; overflow-wrap: anywhere; }
"""


def render_report(manifest: dict[str, Any], images: Mapping[str, bytes]) -> str:
    """The report page of a run's manifest; images are the run's files keyed by file name."""
    return _render(Manifest.model_validate(manifest), images)


def report_from_local_run(run_dir: Path) -> str:
    """The report of a run that `imgloop run --local` left in run_dir."""
    run = Manifest.model_validate_json((run_dir / "manifest.json").read_bytes())
    images = {}
    for name in {_file_name(e) for e in run.entries if e.key}:
        path = run_dir / name
        if path.is_file():
            images[name] = path.read_bytes()
    return _render(run, images)


def _render(run: Manifest, images: Mapping[str, bytes]) -> str:
    requirement = str(run.request.get("prompt") or run.execution_name)
    status = _STATUS.get(run.status, run.status)
    revisions = sorted({e.revision for e in run.entries})
    attempts = range(1, max((e.attempt for e in run.entries), default=0) + 1)
    head = "".join(f"<th scope='col'>Attempt {a}</th>" for a in attempts)
    rows = "\n".join(_row(run, revision, attempts, images) for revision in revisions)
    grid = (
        f"<table class='grid'><thead><tr><th scope='col'>Prompt</th>{head}</tr></thead>\n"
        f"<tbody>\n{rows}\n</tbody></table>"
        if rows
        else "<p class='empty'>The run recorded no generations.</p>"
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(status)}: {escape(requirement)} - imgloop report</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1><span class="status {escape(run.status)}">{escape(status)}</span>{escape(requirement)}</h1>
<dl class="facts">{_facts(run)}</dl>
</header>
<main>
{grid}
</main>
<footer>imgloop report of execution {escape(run.execution_id)}</footer>
</body>
</html>
"""


def _facts(run: Manifest) -> str:
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
    if won := run.winner:
        where = f"revision {won.revision}, attempt {won.attempt}, candidate {won.candidate}"
        facts.append(("Winner", f"{PurePosixPath(won.key).name} ({where})"))
    if run.failure:
        facts.append(("Failure", f"{run.failure.error}: {run.failure.message}"))
    return "".join(f"<dt>{escape(name)}</dt><dd>{escape(value)}</dd>" for name, value in facts)


def _row(run: Manifest, revision: int, attempts: range, images: Mapping[str, bytes]) -> str:
    entries = [e for e in run.entries if e.revision == revision]
    first = entries[0]
    negative = first.negative_prompt or "(none)"
    cells = []
    for attempt in attempts:
        figures = [_figure(run, e, images) for e in entries if e.attempt == attempt]
        cells.append(
            f"<td><div class='cell'>{''.join(figures)}</div></td>" if figures else "<td class='empty'>not run</td>"
        )
    return (
        f"<tr id='r{revision:02d}'><th scope='row'>"
        f"<div class='revision'>Revision {revision}{' (original)' if revision == 0 else ''}</div>"
        f"<p class='prompt'><span class='label'>Prompt</span>{escape(first.prompt)}</p>"
        f"<p class='negative'><span class='label'>Negative prompt</span>{escape(negative)}</p>"
        f"</th>{''.join(cells)}</tr>"
    )


def _figure(run: Manifest, entry: Entry, images: Mapping[str, bytes]) -> str:
    several = int(run.request.get("candidates") or 1) > 1 or entry.candidate > 1
    label = f"r{entry.revision:02d}-a{entry.attempt:02d}" + (f"-c{entry.candidate}" if several else "")
    winner = run.winner is not None and entry.position == (
        run.winner.revision,
        run.winner.attempt,
        run.winner.candidate,
    )
    lines = []
    if entry.outcome == "refused":
        picture = "<div class='placeholder'>Refused</div>"
        tags = "<span class='tag'>REFUSED</span>"
        lines.append(f"<p class='reason'>{escape(entry.refusal or 'no reason given')}</p>")
    else:
        name = _file_name(entry)
        data = images.get(name)
        media = _MEDIA_TYPES.get(PurePosixPath(name).suffix.lower(), "application/octet-stream")
        picture = (
            f"<img src='data:{media};base64,{base64.b64encode(data).decode()}' alt='{escape(name)}'>"
            if data
            else "<div class='placeholder'>Image file missing</div>"
        )
        label = name
        verdict = entry.verdict
        if verdict is None:
            tags = "<span class='tag'>NOT JUDGED</span>"
        else:
            passed = "pass" if verdict.passed else "fail"
            tags = f"<span class='tag {passed}'>{passed.upper()}</span><span class='score'>{verdict.score}/10</span>"
            lines.append(f"<p class='reason'>{escape(verdict.reason)}</p>")
    if winner:
        tags = "<span class='tag winner'>WINNER</span>" + tags
    if entry.sent_prompt:
        lines.append(f"<p class='meta'>sent as: {escape(entry.sent_prompt)}</p>")
    if entry.note:
        lines.append(f"<p class='meta'>note: {escape(entry.note)}</p>")
    offset = _seconds(run.started_at, entry.created_at)
    at = _when(entry.created_at, clock_only=True) + (f" (+{offset:.2f} s)" if offset is not None else "")
    lines.append(f"<p class='meta'>{escape(at)} &middot; seed {entry.seed}</p>")
    return (
        f"<figure id='{escape(label)}' class='{entry.outcome}{' winner' if winner else ''}'>{picture}"
        f"<figcaption><div class='verdict'>{tags}<span class='name'>{escape(label)}</span></div>"
        f"{''.join(lines)}</figcaption></figure>"
    )


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

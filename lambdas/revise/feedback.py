"""What the reviser is told of a prompt's failures: one line per attempt, from the manifest.

Kept apart from the reviser's logic, which creates the function's logger when imported, so that the
local stand-in reads the line format without configuring any logging."""

from common.manifest import Entry

# How a judge's suggested fix follows its reason in the reviser's <failures>.
SUGGESTED_FIX = " (suggested fix: {fix})"


def feedback_lines(entries: list[Entry], revision: int) -> list[str]:
    lines = []
    for entry in entries:
        if entry.revision != revision:
            continue
        if entry.refusal:
            lines.append(f"attempt {entry.attempt}: the model made no image: {entry.refusal}")
        elif entry.verdict is not None:
            fix = SUGGESTED_FIX.format(fix=entry.verdict.suggested_fix) if entry.verdict.suggested_fix else ""
            lines.append(f"attempt {entry.attempt}: score {entry.verdict.score}/10: {entry.verdict.reason}{fix}")
    return lines

"""`imgloop watch`'s display: a live bar over the run's image budget on a terminal, one line per state elsewhere."""

import io
import json
from typing import Any

from imgloop.runs.live import RunDisplay
from imgloop.runs.progress import describe_event


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _exited(name: str, output: Any) -> dict[str, Any]:
    return {"type": "TaskStateExited", "stateExitedEventDetails": {"name": name, "output": json.dumps(output)}}


CHECKED = _exited("Check input", {"request": {"max_retry_attempts": 3, "max_prompt_revisions": 1, "candidates": 2}})
SAVED = _exited("Save image", {"record": {}})


def test_on_a_terminal_the_bar_counts_images_against_the_budget_with_rate_and_time_left() -> None:
    terminal, now = _Terminal(), [0.0]
    display = RunDisplay(terminal, clock=lambda: now[0])

    display(CHECKED)
    now[0] = 30.0
    display(SAVED)
    display(SAVED)
    display.close()

    # 2 images in half a minute: 4 a minute; 10 more of the budget of 12 take at most 150 s.
    assert display.status() == "2 image(s), 4.0/min, at most 150 s left"
    assert "2/12" in terminal.getvalue()


def test_elsewhere_each_state_is_a_line_as_before() -> None:
    log = io.StringIO()
    display = RunDisplay(log)

    display(CHECKED)
    display.close()

    assert log.getvalue() == f"{describe_event(CHECKED)}\n"

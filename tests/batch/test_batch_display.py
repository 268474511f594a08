"""What `imgloop batch` shows while it follows: the plan once, then on a terminal a live bar with the images,
the rate and the time left, elsewhere the plain progress lines."""

import io
from types import SimpleNamespace
from typing import Any

from common.quotas import ItemWork, PlanSettings, Quota, plan
from imgloop.batch.display import BatchDisplay
from imgloop.batch.progress import Progress

QUOTA = Quota(
    model_id="m",
    role="image",
    name="On-demand InvokeModel requests per minute for M",
    unit="requests",
    per_minute=60,
    source="service-quotas",
)
PLAN = plan([ItemWork.of(1, 1, 0, PlanSettings())] * 10, [QUOTA], PlanSettings())


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _follower() -> Any:
    return SimpleNamespace(opened=SimpleNamespace(plan=PLAN))


def _progress(succeeded: int, running: int = 0) -> Progress:
    return Progress("covers", 10, succeeded, 0, 0, running, succeeded)


def test_the_terminal_gets_the_plan_once_then_a_bar_with_rate_and_time_left() -> None:
    terminal = _Terminal()
    now = [0.0]
    display = BatchDisplay(terminal, _follower(), clock=lambda: now[0])

    display(_progress(0, 4))
    assert display.status(_progress(0, 4)) == "0 image(s), about 12 s left (planned)"
    now[0] = 60.0
    display(_progress(5, 4))
    assert display.status(_progress(5, 4)) == "5 image(s), 5.0/min, 60 s left"
    display.close()

    shown = terminal.getvalue()
    assert shown.startswith("plan: 10 item(s) at once, about 50.0 image request(s) a minute, 12 s for 10 item(s)\n")
    assert shown.count("plan: ") == 1 and "batch covers" in shown and "5/10" in shown


def test_a_pipe_gets_the_plan_then_plain_lines() -> None:
    log = io.StringIO()
    display = BatchDisplay(log, _follower())

    display(_progress(10))
    display.close()

    assert log.getvalue().splitlines() == [
        *PLAN.lines(),
        "batch covers: 10/10 done: 10 succeeded, 0 failed; 0 running; 10 image(s) made; $0.0000 spent",
    ]

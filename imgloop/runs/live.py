"""What `imgloop watch` shows while a run goes on: on a terminal a live bar (rich) over the run's image budget
with the images made, the images a minute and the time left at most (the run stops sooner when an image is
accepted); elsewhere (a log, a pipe) one line per state, as before.

The budget is read from "Check input"'s output (max_retry_attempts x (max_prompt_revisions + 1) x candidates);
an image counts when "Save image" has filed it.
"""

import json
import time
from collections.abc import Callable
from typing import Any, TextIO

from imgloop.runs.progress import describe_event

_CHECK_INPUT = "Check input"
_SAVE_IMAGE = "Save image"


class RunDisplay:
    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._tty = stream.isatty()
        self._clock = clock
        self._started = clock()
        self._budget: int | None = None
        self.images = 0
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, event: dict[str, Any]) -> None:
        if not self._tty:
            line = describe_event(event)
            if line:
                print(line, file=self._stream, flush=True)
            return
        details = event.get("stateExitedEventDetails") or {}
        if details.get("name") == _CHECK_INPUT:
            self._budget = _budget(details.get("output"))
        elif details.get("name") == _SAVE_IMAGE:
            self.images += 1
        self._show()

    def status(self) -> str:
        minutes = (self._clock() - self._started) / 60
        rate = self.images / minutes if minutes > 0 else 0.0
        text = f"{self.images} image(s), {rate:.1f}/min"
        if self._budget is not None and rate > 0 and self._budget > self.images:
            text += f", at most {(self._budget - self.images) / rate * 60:.0f} s left"
        return text

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()

    def _show(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
        from rich.progress import Progress as Bar

        if self._bar is None:
            self._bar = Bar(
                TextColumn("images"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                console=Console(file=self._stream),
            )
            self._bar.start()
            self._task = self._bar.add_task("images", total=None, status="")
        self._bar.update(self._task, completed=self.images, total=self._budget, status=self.status())


def _budget(output: Any) -> int | None:
    try:
        request = json.loads(output or "{}").get("request") or {}
        return (
            int(request["max_retry_attempts"])
            * (int(request["max_prompt_revisions"]) + 1)
            * int(request.get("candidates", 1))
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None  # a rejected input: no budget to show

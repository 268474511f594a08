"""What `imgloop batch` (and `batch-status --wait`) shows while it follows a batch: the plan, once "Read the
batch" has made it, then the progress. On a terminal the progress is a live bar (rich) with the items done,
the images made, the rate and the time left; in a log or a pipe it is `ProgressLine`'s plain lines. With
--json the commands show neither.

The rate is the images made a minute since the display first saw the batch; the time left is the items
still to run at the rate items have been finishing, or, before any has, the plan's expected duration.
"""

import time
from collections.abc import Callable
from typing import Any, TextIO

from common.quotas import duration_text
from imgloop.batch.progress import BatchFollower, Progress, ProgressLine


class BatchDisplay:
    def __init__(self, stream: TextIO, follower: BatchFollower, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream = stream
        self._follower = follower
        self._clock = clock
        self._plain = None if stream.isatty() else ProgressLine(stream)
        self._bar: Any = None  # rich's Progress, started at the first progress on a terminal
        self._task: Any = None
        self._plan_shown = False
        self._first: tuple[float, int, int] | None = None  # when the display first saw the batch: images, done

    def __call__(self, progress: Progress) -> None:
        self._show_plan()
        if self._plain is not None:
            self._plain(progress)
            return
        self._update_bar(progress)

    def close(self) -> None:
        if self._plain is not None:
            self._plain.close()
        elif self._bar is not None:
            self._bar.stop()

    def _show_plan(self) -> None:
        opened = self._follower.opened
        if self._plan_shown or opened is None:
            return
        self._plan_shown = True
        for line in opened.plan.lines() if opened.plan else []:
            print(line, file=self._stream, flush=True)

    def _update_bar(self, progress: Progress) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, TextColumn
        from rich.progress import Progress as Bar

        if self._bar is None:
            self._bar = Bar(
                TextColumn(f"batch {progress.batch}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[status]}"),
                console=Console(file=self._stream),
            )
            self._bar.start()
            self._task = self._bar.add_task("items", total=progress.items, status="")
        done = progress.succeeded + progress.failed + progress.skipped
        self._bar.update(self._task, completed=done, status=self.status(progress))

    def status(self, progress: Progress) -> str:
        """The words beside the bar: images, rate, failures, time left."""
        now = self._clock()
        done = progress.succeeded + progress.failed
        if self._first is None:
            self._first = (now, progress.images, done)
        started, images_then, done_then = self._first
        minutes = (now - started) / 60
        text = f"{progress.images} image(s)"
        if minutes > 0:
            text += f", {(progress.images - images_then) / minutes:.1f}/min"
        if progress.failed:
            text += f", {progress.failed} failed"
        left = progress.items - done - progress.skipped
        finished = done - done_then
        plan = self._follower.opened.plan if self._follower.opened else None
        if left and finished and minutes > 0:
            text += f", {duration_text(left * minutes * 60 / finished)} left"
        elif left and plan is not None and plan.items:
            text += f", about {duration_text(plan.duration_s * left / plan.items)} left (planned)"
        return text

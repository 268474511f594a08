"""The batch's progress line: rewritten in place on a terminal, a new line on change (at most one every few
seconds) elsewhere, and the last state always shown."""

import io

from imgloop.batch.progress import Progress, ProgressLine


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _progress(succeeded: int, failed: int = 0, running: int = 0, skipped: int = 0) -> Progress:
    return Progress("covers", 10, succeeded, failed, skipped, running, succeeded * 2, succeeded * 0.09)


def test_the_line_counts_done_failed_running_skipped_and_images() -> None:
    assert _progress(3, 1, 4).line() == (
        "batch covers: 4/10 done: 3 succeeded, 1 failed; 4 running; 6 image(s) made; $0.2700 spent"
    )
    assert _progress(1, 0, 2, skipped=5).line() == (
        "batch covers: 6/10 done: 1 succeeded, 0 failed, 5 skipped; 2 running; 2 image(s) made; $0.0900 spent"
    )


def test_on_a_terminal_the_line_is_rewritten_in_place_and_ended_once() -> None:
    terminal = _Terminal()
    line = ProgressLine(terminal, gap=5.0, clock=_Clock())

    line(_progress(0, 0, 4))
    line(_progress(0, 0, 4))  # unchanged: not written again
    line(_progress(10))
    line.close()

    first, last = _progress(0, 0, 4).line(), _progress(10).line()
    blanks = " " * (len(first) - len(last))
    assert terminal.getvalue() == f"\r{first}\r{last}{blanks}\n"


def test_elsewhere_a_changed_line_is_printed_at_most_once_per_gap_and_the_last_always() -> None:
    log = io.StringIO()
    clock = _Clock()
    line = ProgressLine(log, gap=5.0, clock=clock)

    line(_progress(1, 0, 4))
    clock.now += 1
    line(_progress(2, 0, 4))  # within the gap: held back
    clock.now += 5
    line(_progress(2, 0, 4))  # the gap has passed: the held-back line is printed now
    line(_progress(3, 0, 4))
    line(_progress(10))
    line.close()

    assert log.getvalue().splitlines() == [_progress(1, 0, 4).line(), _progress(2, 0, 4).line(), _progress(10).line()]


def test_closing_after_the_last_line_was_shown_prints_nothing_more() -> None:
    log = io.StringIO()
    line = ProgressLine(log, gap=5.0, clock=_Clock())

    line(_progress(10))
    line.close()

    assert log.getvalue() == _progress(10).line() + "\n"

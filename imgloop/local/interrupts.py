"""Ctrl-C while a local account runs.

moto's interpreter runs the workflow in threads of this process, and a KeyboardInterrupt raised wherever
the main thread happens to be can land inside moto's serializer, a botocore call or a finalizer (where
Python prints it and drops it, and the command goes on). So during a local run the first Ctrl-C is only
noted, and raised where the runner looks at the execution, between its calls; a second one is raised at once.
"""

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class DeferredInterrupt:
    def __init__(self) -> None:
        self._pressed = threading.Event()

    @contextmanager
    def deferring(self) -> Iterator[None]:
        """Note Ctrl-C instead of raising it, until the block ends (only the main thread gets signals)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def note(signum: int, frame: FrameType | None) -> None:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            self._pressed.set()

        previous = signal.signal(signal.SIGINT, note)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)

    def check(self) -> None:
        """Raise the KeyboardInterrupt a Ctrl-C left pending."""
        if self._pressed.is_set():
            self._pressed.clear()
            raise KeyboardInterrupt

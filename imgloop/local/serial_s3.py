"""One S3 request at a time against moto, as real S3 makes each request atomic.

moto's S3 is not safe for concurrent writes to one key (an overwrite closes the buffer another
request is still reading), which Map iterations writing the manifest in parallel would hit. The
lock spans one request, not a read-modify-write, so the manifest's conditional writes still race."""

import threading
from typing import Any

_LOCK = threading.RLock()
_HELD = "imgloop_serial_s3"


def _acquire(context: dict[str, Any], **_: Any) -> None:
    _LOCK.acquire()
    context[_HELD] = True


def _release(context: dict[str, Any], **_: Any) -> None:
    if context.pop(_HELD, False):
        _LOCK.release()


def register(events: Any) -> None:
    # Registered last, so a stand-in or fault that answers first never takes the lock.
    events.register_last("before-call.s3", _acquire)
    events.register("after-call.s3", _release)
    events.register("after-call-error.s3", _release)

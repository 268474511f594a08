"""The stand-in's quotas: a requests-per-minute quota per model, as Bedrock enforces on its runtime endpoint,
answered with ThrottlingException when a call would exceed it; and Service Quotas' ListServiceQuotas, answered
with those quotas under the names Bedrock's quotas have, so that a local batch plans from them as a deployed
one plans from the account's.

Time may be scaled as the bench's latency mode scales it: with `time_scale` 0.1 a model call that takes 8 s
on Bedrock takes 0.8 s here, and so a quota's minute lasts 6 s.
"""

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from common.catalogue import base_model_id
from common.quotas import QUOTA_MODEL_NAMES
from imgloop.local.standin.answers import Answered, ok

_URL = "https://servicequotas.local"


@dataclass(frozen=True)
class Quotas:
    # Requests a minute each model answers, by the model id the functions call (an inference profile's, say).
    requests_per_minute: dict[str, float] = field(default_factory=dict)
    # Seconds of this machine per second on Bedrock: the quota's minute lasts 60 x time_scale seconds.
    time_scale: float = 1.0

    @property
    def wait_scale(self) -> float:
        """How the local runner sleeps Retry waits: on the quotas' clock when there are quotas to ride out,
        else not at all."""
        return self.time_scale if self.requests_per_minute else 0.0

    def quota_name(self, model_id: str) -> str | None:
        """The quota as Service Quotas names it, for a model whose name in quota names is known."""
        base = base_model_id(model_id)
        spellings = QUOTA_MODEL_NAMES.get(base)
        if not spellings:
            return None
        scope = "On-demand" if base == model_id else "Cross-Region"
        return f"{scope} InvokeModel requests per minute for {spellings[0]}"


class QuotaMeter:
    """Each model's calls in the last (scaled) minute: a call is admitted while fewer than its quota were."""

    def __init__(self, quotas: Quotas, clock: Callable[[], float] = time.monotonic) -> None:
        self.quotas = quotas
        self._clock = clock
        self._window = 60 * quotas.time_scale
        self._calls: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.throttled = 0

    def admit(self, model_id: str) -> bool:
        limit = self.quotas.requests_per_minute.get(model_id)
        if limit is None:
            return True
        now = self._clock()
        with self._lock:
            calls = self._calls.setdefault(model_id, deque())
            while calls and calls[0] <= now - self._window:
                calls.popleft()
            if len(calls) >= limit:
                self.throttled += 1
                return False
            calls.append(now)
            return True

    def listed(self, params: dict[str, Any], **_: Any) -> Answered:
        """ListServiceQuotas for Bedrock: the quotas as the account's applied values (one page)."""
        quotas = []
        for number, (model_id, value) in enumerate(sorted(self.quotas.requests_per_minute.items()), start=1):
            name = self.quotas.quota_name(model_id)
            if name is not None:
                code = f"L-{number:08X}"
                quotas.append({"ServiceCode": "bedrock", "QuotaCode": code, "QuotaName": name, "Value": value})
        return ok({"Quotas": quotas}, _URL)

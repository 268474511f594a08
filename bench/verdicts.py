"""The seeded judge: which image a judge call is about, and whether that image passes.

The verdict on an image is drawn from a seeded sequence keyed by (prompt index, image number), so every
contender sees the same verdicts for the same image.
"""

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Position:
    revision: int
    attempt: int
    candidate: int = 1
    candidates: int = 1

    def image_number(self, max_attempts: int) -> int:
        """1 for a prompt's first image; counts candidates, then attempts, then revisions."""
        return ((self.revision * max_attempts) + self.attempt - 1) * self.candidates + self.candidate


@dataclass(frozen=True)
class Verdicts:
    """A pass with probability pass_rate, drawn once per (prompt index, image number) from the seed."""

    seed: int
    pass_rate: float
    max_attempts: int

    def passes(self, prompt_index: int, image_number: int) -> bool:
        return random.Random(f"{self.seed}:{prompt_index}:{image_number}").random() < self.pass_rate

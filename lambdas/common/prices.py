"""The price table (prices.json): what each model the catalogue allows costs, and the orchestration.

One table for the product (the functions price their own calls, `imgloop estimate` and `imgloop prices`
read it) and for the bench. Every price names its source and the date it was read; `confirmed` is false
where only third-party copies of the provider's figure were found.

Money the state machine adds up is in integer micro-dollars (States.MathAdd adds integers): a price is
rounded up to the next micro-dollar, so a sum of them never falls below what AWS bills.
"""

import math
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field

from common.model import Model

MICRO = 1_000_000


def to_micro(usd: float) -> int:
    # Rounded up: the cap compares sums of these, and an estimate must not undercount.
    return math.ceil(round(usd * MICRO, 6))


def to_usd(micro: int) -> float:
    return micro / MICRO


class Sourced(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    read: str
    confirmed: bool
    note: str = ""
    source_note: str = ""


class Tier(Model):
    """One image price and the conditions it holds under; a condition left out holds for any value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    usd: float = Field(ge=0)
    quality: str | None = None
    max_side: int | None = None  # the longer side, in pixels
    max_pixels: int | None = None
    max_steps: int | None = None

    def holds(self, quality: str | None, size: tuple[int, int] | None, steps: int | None) -> bool:
        if self.quality is not None and quality is not None and quality != self.quality:
            return False
        if size is not None and self.max_side is not None and max(size) > self.max_side:
            return False
        if size is not None and self.max_pixels is not None and size[0] * size[1] > self.max_pixels:
            return False
        return not (steps is not None and self.max_steps is not None and steps > self.max_steps)

    @property
    def conditions(self) -> str:
        parts = [
            *([self.quality] if self.quality else []),
            *([f"longer side <= {self.max_side} px"] if self.max_side else []),
            *([f"<= {self.max_pixels:,} px"] if self.max_pixels else []),
            *([f"<= {self.max_steps} steps"] if self.max_steps else []),
        ]
        return ", ".join(parts) or "any"


class ImagePrice(Sourced):
    tiers: list[Tier] = Field(min_length=1)
    unit: str

    def usd(self, quality: str | None = None, size: tuple[int, int] | None = None, steps: int | None = None) -> float:
        """The first tier whose conditions hold; a request none holds for (a size past the table) costs
        the dearest tier, so an estimate stays a ceiling."""
        for tier in self.tiers:
            if tier.holds(quality, size, steps):
                return tier.usd
        return max(tier.usd for tier in self.tiers)


class TokenPrice(Sourced):
    input_per_million: float = Field(ge=0)
    output_per_million: float = Field(ge=0)
    # How the model counts an image's input tokens (a key of the table's image_tokens).
    image_tokens: Literal["claude", "nova"]

    def micro(self, input_tokens: int, output_tokens: int) -> int:
        """A call's cost in micro-dollars: a price per million tokens is a price in micro-dollars per token."""
        return math.ceil(round(input_tokens * self.input_per_million + output_tokens * self.output_per_million, 6))


class SizeClass(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int
    height: int
    tokens: int


class ImageTokens(Sourced):
    rule: str
    max_tokens: int
    pixels_per_token: int | None = None  # Claude: width x height / 750, capped
    classes: list[SizeClass] = Field(default_factory=list)  # Nova: the resolution classes of AWS's table

    def tokens(self, size: tuple[int, int] | None) -> int:
        """An image's input tokens as the model counts them; an image of unknown size (an edit's source)
        counts as the most an image can."""
        if size is None:
            return self.max_tokens
        if self.pixels_per_token:
            return min(math.ceil(size[0] * size[1] / self.pixels_per_token), self.max_tokens)
        long, short = max(size), min(size)
        fitting = [c.tokens for c in self.classes if max(c.width, c.height) >= long and min(c.width, c.height) >= short]
        return min(fitting, default=self.max_tokens)


class UnitPrice(Sourced):
    usd: float = Field(ge=0)
    unit: str


class Orchestration(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    state_transition: UnitPrice
    lambda_request: UnitPrice
    lambda_gb_second: UnitPrice
    s3_write: UnitPrice
    s3_read: UnitPrice


class PriceTable(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)

    read: str
    currency: Literal["USD"]
    scope: str
    confirmed: str  # what "confirmed" means in this table
    images: dict[str, ImagePrice]
    tokens: dict[str, TokenPrice]
    image_tokens: dict[Literal["claude", "nova"], ImageTokens]
    orchestration: Orchestration

    def image(self, model_id: str) -> ImagePrice:
        try:
            return self.images[model_id]
        except KeyError:
            raise Unpriced(model_id) from None

    def token(self, model_id: str) -> TokenPrice:
        try:
            return self.tokens[model_id]
        except KeyError:
            raise Unpriced(model_id) from None

    def image_input_tokens(self, model_id: str, size: tuple[int, int] | None) -> int:
        return self.image_tokens[self.token(model_id).image_tokens].tokens(size)


class Unpriced(LookupError):
    """A model the table has no price for (a model id outside the catalogue's allow-list)."""

    def __init__(self, model_id: str) -> None:
        super().__init__(model_id)
        self.model_id = model_id

    def __str__(self) -> str:
        return f"no price for {self.model_id} in lambdas/common/prices.json"


@cache
def prices() -> PriceTable:
    return PriceTable.model_validate_json((Path(__file__).parent / "prices.json").read_text())

"""What a run would cost on AWS, from what the meter counted, at the prices of the product's own table
(lambdas/common/prices.json, read through common.prices): the bench and `imgloop estimate` price alike."""

from dataclasses import dataclass

from bench.usage import Usage
from common.names import CLAUDE_SONNET, SD35_LARGE
from common.prices import prices


@dataclass(frozen=True)
class Price:
    name: str
    usd: float
    unit: str
    source: str
    confirmed: bool  # False: only third-party copies of the provider's figure were found


_TABLE = prices()
CHECKED_ON = _TABLE.read
# The models the bench runs: the deployment's defaults.
_IMAGE = _TABLE.image(SD35_LARGE)
_TOKENS = _TABLE.token(CLAUDE_SONNET)
_RUN = _TABLE.orchestration

IMAGE = Price(f"{SD35_LARGE} image", _IMAGE.usd(), "image", _IMAGE.source, _IMAGE.confirmed)
INPUT_TOKENS = Price(
    f"{CLAUDE_SONNET} input", _TOKENS.input_per_million, "million tokens", _TOKENS.source, _TOKENS.confirmed
)
OUTPUT_TOKENS = Price(
    f"{CLAUDE_SONNET} output", _TOKENS.output_per_million, "million tokens", _TOKENS.source, _TOKENS.confirmed
)
TRANSITION = Price(
    _RUN.state_transition.unit,
    _RUN.state_transition.usd * 1e3,
    "thousand transitions",
    _RUN.state_transition.source,
    _RUN.state_transition.confirmed,
)
LAMBDA_REQUEST = Price(
    _RUN.lambda_request.unit,
    _RUN.lambda_request.usd * 1e6,
    "million requests",
    _RUN.lambda_request.source,
    _RUN.lambda_request.confirmed,
)
LAMBDA_GB_S = Price(
    _RUN.lambda_gb_second.unit,
    _RUN.lambda_gb_second.usd,
    "GB-second",
    _RUN.lambda_gb_second.source,
    _RUN.lambda_gb_second.confirmed,
)
S3_WRITE = Price(
    _RUN.s3_write.unit, _RUN.s3_write.usd * 1e3, "thousand requests", _RUN.s3_write.source, _RUN.s3_write.confirmed
)
S3_READ = Price(
    _RUN.s3_read.unit, _RUN.s3_read.usd * 1e3, "thousand requests", _RUN.s3_read.source, _RUN.s3_read.confirmed
)

PRICES = (IMAGE, INPUT_TOKENS, OUTPUT_TOKENS, TRANSITION, LAMBDA_REQUEST, LAMBDA_GB_S, S3_WRITE, S3_READ)
# Not counted: S3 storage, data transfer, CloudWatch Logs (the state machine logs ALL events with their data)
# and X-Ray traces; the doc shows the history's size as a hint of the log volume.


@dataclass(frozen=True)
class Cost:
    images: float
    tokens: float
    transitions: float
    lambda_: float
    s3: float

    @property
    def models(self) -> float:
        return self.images + self.tokens

    @property
    def orchestration(self) -> float:
        return self.transitions + self.lambda_ + self.s3

    @property
    def total(self) -> float:
        return self.models + self.orchestration

    def per(self, accepted: int) -> "Cost":
        n = max(accepted, 1)
        return Cost(self.images / n, self.tokens / n, self.transitions / n, self.lambda_ / n, self.s3 / n)


def cost(usage: Usage, transitions: int, orchestrated: bool = True) -> Cost:
    """The bill for this usage; `orchestrated` False leaves out Lambda and S3 (the lower bound's model work)."""
    tokens = usage.input_tokens / 1e6 * INPUT_TOKENS.usd + usage.output_tokens / 1e6 * OUTPUT_TOKENS.usd
    return Cost(
        images=usage.images * IMAGE.usd,
        tokens=tokens,
        transitions=transitions / 1e3 * TRANSITION.usd,
        lambda_=(usage.lambda_requests / 1e6 * LAMBDA_REQUEST.usd + usage.lambda_gb_s * LAMBDA_GB_S.usd)
        if orchestrated
        else 0.0,
        s3=(usage.s3_writes / 1e3 * S3_WRITE.usd + usage.s3_reads / 1e3 * S3_READ.usd) if orchestrated else 0.0,
    )

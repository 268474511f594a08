"""What a run would cost on AWS, from what the meter counted, at published on-demand prices (us-west-2)."""

from dataclasses import dataclass

from bench.usage import Usage


@dataclass(frozen=True)
class Price:
    name: str
    usd: float
    unit: str
    source: str
    confirmed: bool  # False: the figure could not be read from the provider's own page when it was looked up


CHECKED_ON = "2026-11-26"

IMAGE = Price(
    "SD3.5 Large image (Bedrock, on demand)",
    0.08,
    "image",
    "https://aws.amazon.com/bedrock/pricing/ (Stability AI section); the page renders its prices client-side and "
    "third-party summaries disagree ($0.06-$0.08), so the figure is the one AWS announced for SD3.5 Large",
    False,
)
INPUT_TOKENS = Price(
    "Claude Sonnet 4.6 input (Bedrock, on demand)",
    3.00,
    "million tokens",
    "https://aws.amazon.com/bedrock/pricing/ via third-party summaries (clauder-navi.com, exploreagentic.ai, "
    "2026): $3 / $15 per million; a regional (us.) profile may cost 10% more than the global one",
    False,
)
OUTPUT_TOKENS = Price(
    "Claude Sonnet 4.6 output (Bedrock, on demand)", 15.00, "million tokens", INPUT_TOKENS.source, False
)
TRANSITION = Price(
    "Step Functions Standard state transition",
    0.025,
    "thousand transitions",
    "https://aws.amazon.com/step-functions/pricing/ (US West (Oregon) $0.0250 per 1,000)",
    True,
)
LAMBDA_REQUEST = Price(
    "Lambda request",
    0.20,
    "million requests",
    "https://docs.aws.amazon.com/whitepapers/latest/how-aws-pricing-works/lambda.html",
    True,
)
LAMBDA_GB_S = Price(
    "Lambda duration, x86",
    0.0000166667,
    "GB-second",
    "https://aws.amazon.com/lambda/pricing/ (first 6 billion GB-s a month; the whitepaper rounds it to 0.00001667)",
    True,
)
S3_WRITE = Price(
    "S3 Standard PUT, COPY, POST, LIST",
    0.005,
    "thousand requests",
    "https://aws.amazon.com/s3/pricing/ (not re-read: the figure is the long-standing us-west-2 price)",
    False,
)
S3_READ = Price("S3 Standard GET, HEAD and other reads", 0.0004, "thousand requests", S3_WRITE.source, False)

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

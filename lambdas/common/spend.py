"""What a run may cost: the price of each call it makes, its worst case and its expected cost.

The worst case is the whole budget used: `RunRequest.max_images()` images, each judged, a reviser call
per revised prompt (and one to translate). Each call is priced at its ceiling: an image at its size's
price, a Converse call at its `max_tokens` of output and an input bounded from above. "Check input"
carries the figures the state machine needs (`Budget`); `imgloop estimate` prints them with the
expected cost at a pass rate.
"""

import math
from collections import defaultdict
from dataclasses import dataclass

from pydantic import ConfigDict

from common.errors import InvalidInput
from common.generators import GeneratorConfig
from common.manifest import Manifest
from common.model import Model
from common.prices import PriceTable, Unpriced, prices, to_micro, to_usd
from common.request import MAX_PROMPT_CHARS, RunRequest
from common.sections import ConverseConfig

# A ceiling on a Converse call's text input: one token per character (the models' tokenizers take
# several characters per token in Latin scripts), plus the rubric, the tool's definition and the
# tool-use system prompt the model adds, in tokens.
WORST_TOKENS_PER_CHAR = 1
CALL_OVERHEAD_TOKENS = 3000
# What the reviser reads of one failed image: its reason and suggested fix (500 characters each) or
# the refusal, and the line around them.
FAILURE_CHARS = 1200
# What a call is expected to use (the expected cost only): text at 4 characters a token, as the bench
# counts it, and a verdict or a prompt of a few hundred tokens.
TYPICAL_CHARS_PER_TOKEN = 4
TYPICAL_OVERHEAD_TOKENS = 1200
TYPICAL_OUTPUT_TOKENS = 500
# An edit's judge sees the source and the mask besides the result.
EDIT_IMAGES = 3
DEFAULT_PASS_RATE = 0.5
# The cap of a run that sets none: more than any budget can spend (the largest integer the state
# machine's arithmetic takes), so its Choice never stops the run.
UNCAPPED = 2**31 - 1


class Budget(Model):
    """What the state machine compares before each attempt, in micro-dollars: the cap, the most the next
    attempt can cost (its images and their judge calls), the most a revised prompt and its first attempt
    can cost, and the spend up to which each still fits under the cap (the cap less its worst case), so a
    Choice compares the spend with them and no state adds the worst case to it."""

    # Strict like every payload: the state hands it to Save's closing, where no field may slip in.
    model_config = ConfigDict(extra="forbid", frozen=True)

    cap_usd_micro: int
    attempt_usd_micro: int
    revision_usd_micro: int
    attempt_within_usd_micro: int
    revision_within_usd_micro: int

    @classmethod
    def of(cls, cap: int, attempt: int, revision: int) -> "Budget":
        return cls(
            cap_usd_micro=cap,
            attempt_usd_micro=attempt,
            revision_usd_micro=revision,
            attempt_within_usd_micro=cap - attempt,
            revision_within_usd_micro=cap - revision,
        )


class RunCost(Model):
    """What a run's model calls cost, from its manifest, in dollars."""

    total_usd: float
    per_accepted_image_usd: float | None  # None: no image was accepted
    by_model: dict[str, float]


@dataclass(frozen=True)
class CallPrices:
    """One request's price per call, at its ceiling and as expected, in dollars."""

    image: float
    judge_worst: float
    judge_typical: float
    reviser_worst: float
    reviser_typical: float


def image_usd(generator: GeneratorConfig, table: PriceTable) -> float:
    """One image's price: by its size, and by quality or steps where the model's price depends on them."""
    quality = getattr(generator, "quality", None)
    steps = getattr(generator, "steps", None)
    return table.image(generator.model_id).usd(quality, generator.size, steps)


def _converse(config: ConverseConfig, text_chars: int, image_tokens: int, table: PriceTable) -> tuple[float, float]:
    """A Converse call's ceiling and its typical cost, in dollars."""
    price = table.token(config.model_id)
    worst = price.micro(CALL_OVERHEAD_TOKENS + text_chars * WORST_TOKENS_PER_CHAR + image_tokens, config.max_tokens)
    typical_in = TYPICAL_OVERHEAD_TOKENS + math.ceil(text_chars / TYPICAL_CHARS_PER_TOKEN) + image_tokens
    typical = price.micro(typical_in, min(TYPICAL_OUTPUT_TOKENS, config.max_tokens))
    return to_usd(worst), to_usd(typical)


def call_prices(request: RunRequest, table: PriceTable | None = None) -> CallPrices:
    """Raises Unpriced for a model the table does not know."""
    table = table or prices()
    generator = request.generator
    edit = request.mode != "text-to-image"
    images = EDIT_IMAGES if edit else 1
    image_tokens = images * table.image_input_tokens(request.validator.model_id, None if edit else generator.size)
    requirement = MAX_PROMPT_CHARS if request.validate_against == "current" else len(request.prompt)
    judge = _converse(request.validator, requirement, image_tokens, table)
    # The requirement, the last prompt and negative prompt, the model's guidelines and every failure of
    # the last prompt.
    reviser_chars = (
        len(request.prompt)
        + 2 * MAX_PROMPT_CHARS
        + len(generator.prompt_guidelines)
        + request.max_retry_attempts * request.candidates * FAILURE_CHARS
    )
    reviser = _converse(request.reviser, reviser_chars, 0, table)
    return CallPrices(image_usd(generator, table), judge[0], judge[1], reviser[0], reviser[1])


# What the orchestration uses, per run, per attempt, per image and per rewrite: state transitions, Lambda
# requests, Lambda seconds at the functions' 512 MB (a function waits on its model call, and is billed
# for it) and S3 requests. Round figures above what `make bench` measures (docs/performance.md).
MEMORY_GB = 0.5


@dataclass(frozen=True)
class Usage:
    transitions: int
    lambda_requests: int
    lambda_seconds: float
    s3_writes: int
    s3_reads: int

    def usd(self, times: float, table: PriceTable) -> float:
        o = table.orchestration
        return times * (
            self.transitions * o.state_transition.usd
            + self.lambda_requests * o.lambda_request.usd
            + self.lambda_seconds * MEMORY_GB * o.lambda_gb_second.usd
            + self.s3_writes * o.s3_write.usd
            + self.s3_reads * o.s3_read.usd
        )


PER_RUN = Usage(transitions=8, lambda_requests=2, lambda_seconds=2.0, s3_writes=4, s3_reads=6)
PER_ATTEMPT = Usage(transitions=3, lambda_requests=0, lambda_seconds=0.0, s3_writes=0, s3_reads=0)
PER_IMAGE = Usage(transitions=3, lambda_requests=3, lambda_seconds=20.0, s3_writes=5, s3_reads=4)
PER_REWRITE = Usage(transitions=2, lambda_requests=1, lambda_seconds=10.0, s3_writes=0, s3_reads=1)


@dataclass(frozen=True)
class Estimate:
    """A request's worst case and its expected cost at a pass rate per image, in dollars, in all and
    by model ("orchestration" for Step Functions, Lambda and S3)."""

    images: int
    rewrites: int
    worst_by_model: dict[str, float]
    expected_by_model: dict[str, float]
    expected_images: float
    expected_rewrites: float
    pass_rate: float
    calls: CallPrices

    @property
    def worst_case_usd(self) -> float:
        return sum(self.worst_by_model.values())

    @property
    def expected_usd(self) -> float:
        return sum(self.expected_by_model.values())


def _by_model(parts: list[tuple[str, float]]) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    for model, usd in parts:
        totals[model] += usd
    return dict(totals)


def estimate(request: RunRequest, pass_rate: float = DEFAULT_PASS_RATE, table: PriceTable | None = None) -> Estimate:
    """The worst case uses the whole budget, each call at its ceiling. The expected cost counts the calls a
    run makes on average when each image passes with probability `pass_rate` (independently), each call
    at its typical cost."""
    table = table or prices()
    calls = call_prices(request, table)
    per_prompt, prompts, candidates = request.max_retry_attempts, request.max_prompt_revisions + 1, request.candidates
    translation = int(request.translate)
    # An attempt fails when all its candidates fail; the run goes on only past failed attempts.
    fails = (1 - pass_rate) ** candidates
    attempts = sum(fails**k for k in range(per_prompt * prompts))
    revisions = sum(fails ** (per_prompt * j) for j in range(1, prompts))
    generator, validator, reviser = request.generator.model_id, request.validator.model_id, request.reviser.model_id

    def bill(attempts: float, rewrites: float, judge: float, rewrite: float) -> dict[str, float]:
        images = attempts * candidates
        orchestration = (
            PER_RUN.usd(1, table)
            + PER_ATTEMPT.usd(attempts, table)
            + PER_IMAGE.usd(images, table)
            + PER_REWRITE.usd(rewrites, table)
        )
        return _by_model(
            [
                (generator, images * calls.image),
                (validator, images * judge),
                (reviser, rewrites * rewrite),
                ("orchestration", orchestration),
            ]
        )

    rewrites = request.max_prompt_revisions + translation
    return Estimate(
        images=request.max_images(),
        rewrites=rewrites,
        worst_by_model=bill(per_prompt * prompts, rewrites, calls.judge_worst, calls.reviser_worst),
        expected_by_model=bill(attempts, revisions + translation, calls.judge_typical, calls.reviser_typical),
        expected_images=attempts * candidates,
        expected_rewrites=revisions + translation,
        pass_rate=pass_rate,
        calls=calls,
    )


def budget(request: RunRequest, table: PriceTable | None = None) -> Budget:
    """The figures "Check input" hands the state machine. A cap that does not cover the first attempt
    (and the translation before it) is InvalidInput: the run could make nothing."""
    try:
        calls = call_prices(request, table)
    except Unpriced as error:
        if request.max_cost_usd is None:
            # A model outside the table runs uncapped, its calls counted as free.
            return Budget.of(UNCAPPED, 0, 0)
        raise InvalidInput(f"max_cost_usd: cannot be kept: {error}; name a model the table prices") from None
    attempt = to_micro(request.candidates * (calls.image + calls.judge_worst))
    revision = attempt + to_micro(calls.reviser_worst)
    if request.max_cost_usd is None:
        return Budget.of(UNCAPPED, attempt, revision)
    cap = to_micro(request.max_cost_usd)
    first = revision if request.translate else attempt
    if first > cap:
        raise InvalidInput(
            f"max_cost_usd: ${request.max_cost_usd:.4f} does not cover the first attempt, which may cost "
            f"${to_usd(first):.4f}; raise it, or lower candidates"
        )
    return Budget.of(cap, attempt, revision)


def image_micro(generator: GeneratorConfig) -> int:
    """What Generate reports for an image the model answered with (0 for a model the table lacks)."""
    try:
        return to_micro(image_usd(generator, prices()))
    except Unpriced:
        return 0


def converse_micro(model_id: str, input_tokens: int, output_tokens: int) -> int:
    """What a Converse call cost, from the tokens Bedrock reported (0 for a model the table lacks)."""
    try:
        return prices().token(model_id).micro(input_tokens, output_tokens)
    except Unpriced:
        return 0


def run_cost(manifest: Manifest) -> RunCost:
    """The run's cost from its manifest's entries, by model: the images', the judges' and the prompts'."""
    by_model: dict[str, float] = defaultdict(float)
    reviser = str(manifest.request.get("reviser", {}).get("model_id", "reviser"))
    prompts: dict[int, float] = {}
    for entry in manifest.entries:
        by_model[entry.model_id] += entry.cost.image_usd
        if entry.verdict is not None:
            by_model[entry.verdict.judged_by] += entry.cost.judge_usd
        prompts[entry.revision] = max(prompts.get(entry.revision, 0.0), entry.cost.prompt_usd)
    by_model[reviser] += sum(prompts.values())
    spent = {model: round(usd, 6) for model, usd in by_model.items() if usd}
    total = round(sum(spent.values()), 6)
    accepted = 1 if manifest.winner is not None else 0
    return RunCost(
        total_usd=total, per_accepted_image_usd=round(total / accepted, 6) if accepted else None, by_model=spent
    )

"""The sections on what an accepted image costs: each contender's cost by part, how tokens are estimated,
the prices, and the image tokens a judge call costs at each size the image families draw."""

from bench.costs import CHECKED_ON, PRICES, Cost
from bench.harness import LOWER_BOUND, PROJECT_1
from bench.markdown import table
from bench.report.contenders import ALL
from bench.run import Results, contender_cost, total_usage
from bench.tokens import size_table


def cost_section(results: Results) -> list[str]:
    doc = ["", "## Cost per accepted image", ""]
    rows = []
    for contender in ALL:
        runs = results.of(PROJECT_1) if contender == LOWER_BOUND else results.of(contender)
        c, _ = contender_cost(runs, model_only=contender == LOWER_BOUND)
        rows.append([contender, *(f"{v:.5f}" for v in _parts(c))])
    doc += table(
        ["contender", "images", "judge + reviser tokens", "transitions", "Lambda", "S3 requests", "total (USD)"], rows
    )
    one = total_usage(results.of(PROJECT_1))
    calls = one.judge_calls + one.reviser_calls or 1
    doc += [
        "",
        "Counted by the bench's meter around the stand-in: images the model answered (refused and throttled calls",
        "are not billed), Lambda requests, and Lambda GB-seconds (the memory the template sets, times each",
        "invocation's duration with the model waits at their real length, rounded up to 1 ms), S3 requests by",
        "price class, state transitions from the histories. The lower bound is the model work alone.",
        "",
        f"Tokens are estimated per call (one candidate: {one.input_tokens / calls:.0f} input and "
        f"{one.output_tokens / calls:.0f} output tokens per judge or reviser call): each image by Claude's rule",
        "(below), text and tool schemas at 4 characters a token, plus 313 tokens of tool-use system prompt. The",
        f"stand-in's replies report a fixed usage ({one.reported_input_tokens / calls:.0f} in, "
        f"{one.reported_output_tokens / calls:.0f} out), which leaves out the image.",
        "",
        f"Prices (on demand, us-west-2, looked up on {CHECKED_ON}):",
        "",
    ]
    doc += table(
        ["item", "USD", "per", "source", "confirmed"],
        [[p.name, f"{p.usd:g}", p.unit, p.source, "yes" if p.confirmed else "no"] for p in PRICES],
    )
    return doc


def _parts(c: Cost) -> list[float]:
    return [c.images, c.tokens, c.transitions, c.lambda_, c.s3, c.total]


def tokens_section() -> list[str]:
    doc = ["", "## Image tokens per judge call", ""]
    doc += [
        "Claude counts about width x height / 750 tokens per image; an image whose long edge is over 1568 px or",
        "that would cost over ~1,600 tokens (~1.15 MP) is first scaled down by the model, so its extra pixels cost",
        "upload time and latency, not tokens. The project sends every image at full size: scaling it in Validate",
        "to the judge's limit (1568 px long edge, 1.15 MP) before sending changes no token count but shrinks the",
        "request for the sizes marked below (a 2048x2048 Nova Canvas image: 4.2 MP sent for 1.15 MP used).",
        "",
    ]
    rows = [[r.family, r.label, str(r.tokens), "yes" if r.downscaled else ""] for r in size_table()]
    doc += table(["family", "size", "tokens", "downscaled by the model"], rows)
    return doc

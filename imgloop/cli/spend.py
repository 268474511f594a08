"""`imgloop prices` and `imgloop estimate`: the price table, and what a run or a batch may cost before it
starts; and the worst-case line (and --max-cost) that `run`, `start` and `batch` share.

An estimate reads the request as "Check input" would (the default models of common.names filled in,
retired models replaced by their successors) and prices it with common.spend: the worst case uses the whole
budget, the expected cost assumes each image passes with the --pass-rate probability."""

import argparse
import json
from pathlib import Path
from typing import Any

from common.errors import InvalidInput
from common.names import DEFAULT_GENERATOR_MODEL, DEFAULT_REVISER_MODEL, DEFAULT_VALIDATOR_MODEL
from imgloop.errors import Command, UsageError

# The bucket an estimate's request names when it names none: an estimate writes nothing.
_NO_BUCKET = "imgloop-estimate"


def _rate(value: str) -> float:
    rate = float(value)
    if not 0 < rate <= 1:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 1")
    return rate


def _usd(value: str) -> float:
    from common.request import MIN_COST_USD

    usd = float(value)
    if usd < MIN_COST_USD:
        raise argparse.ArgumentTypeError(f"must be at least {MIN_COST_USD} (dollars)")
    return usd


def add_commands(commands: Any) -> dict[str, Command]:
    shown = commands.add_parser("prices", help="show the price table: each model's prices and the orchestration's")
    shown.add_argument("--json", action="store_true", help="print the table as JSON (lambdas/common/prices.json)")
    est = commands.add_parser("estimate", help="the worst case and the expected cost of a run or a batch")
    source = est.add_mutually_exclusive_group(required=True)
    source.add_argument("--input", type=Path, metavar="EVENT", help="a run's input event (JSON file)")
    source.add_argument("--batch", type=Path, metavar="FILE", help="a batch's items (jsonl, csv, txt, json)")
    est.add_argument(
        "--defaults", type=Path, metavar="FILE", help="with --batch: the request fields every item starts from"
    )
    est.add_argument("--format", help="with --batch: how the items are written, when the extension does not say")
    est.add_argument(
        "--pass-rate",
        type=_rate,
        default=None,
        metavar="P",
        help="the chance that one image passes the judge, for the expected cost (default: 0.5)",
    )
    est.add_argument("--json", action="store_true", help='print {"worst_case_usd": ..., "expected_usd": ..., ...}')
    return {"prices": _prices, "estimate": _estimate}


def add_cost_option(parser: argparse.ArgumentParser, whose: str = "the run's") -> None:
    parser.add_argument(
        "--max-cost",
        type=_usd,
        metavar="USD",
        help=f"{whose} spending cap in dollars (max_cost_usd): no attempt starts that could take the spend past it",
    )


def _settings() -> Any:
    from common.settings import Settings

    return Settings(
        output_bucket=_NO_BUCKET,
        generator_model_id=DEFAULT_GENERATOR_MODEL,
        validator_model_id=DEFAULT_VALIDATOR_MODEL,
        reviser_model_id=DEFAULT_REVISER_MODEL,
    )


def read(event: dict[str, Any]) -> Any:
    """The request as "Check input" runs it, or a UsageError saying why it would be refused."""
    from common.lifecycle import with_successors
    from common.request import read_request

    try:
        return with_successors(read_request(event, _settings()))[0]
    except InvalidInput as error:
        raise UsageError(f"the request would be refused (InvalidInput): {error}") from None


def priced(event: dict[str, Any], pass_rate: float | None = None) -> Any:
    from common.prices import Unpriced
    from common.spend import DEFAULT_PASS_RATE, estimate

    try:
        return estimate(read(event), DEFAULT_PASS_RATE if pass_rate is None else pass_rate)
    except Unpriced as error:
        raise UsageError(f"cannot estimate: {error}") from None


def with_cap(event: dict[str, Any], max_cost: float | None) -> dict[str, Any]:
    """The event with --max-cost as its max_cost_usd (the option wins over the file)."""
    return event if max_cost is None else {**event, "max_cost_usd": max_cost}


def announce(events: list[dict[str, Any]], json_mode: bool) -> None:
    """One line on stdout just before a run or a batch starts, once every check passed (a command that
    cannot start prints nothing on stdout): its worst case. Not in --json mode, whose
    stdout is one object and whose stderr the execution's ARN (`imgloop estimate --json` prints the
    figures). A request that cannot be priced is left to the run, which says why."""
    if json_mode:
        return
    try:
        estimates = [priced(event) for event in events]
    except UsageError:
        return
    worst = sum(e.worst_case_usd for e in estimates)
    what = "run" if len(events) == 1 else f"batch of {len(events)} runs"
    images = sum(e.images for e in estimates)
    line = f"worst case: ${worst:.4f} for this {what} (all {images} image(s) of its budget); see `imgloop estimate`"
    print(line, flush=True)


def _prices(args: argparse.Namespace) -> int:
    from common.prices import prices

    table = prices()
    if args.json:
        print(json.dumps(table.model_dump(mode="json", exclude_defaults=True), indent=1, ensure_ascii=False))
        return 0
    print(f"Prices in USD, read {table.read} ({table.scope})")
    print(f"confirmed: {table.confirmed}\n")
    print(f"{'image model':46} {'USD per image':>13}  {'when':34} confirmed  source")
    for model, image in table.images.items():
        for tier in image.tiers:
            print(f"{model:46} {tier.usd:>13.4f}  {tier.conditions:34} {_yes(image.confirmed):9}  {image.source}")
    print(f"\n{'text and vision model':46} {'in /M tok':>9} {'out /M tok':>10}  confirmed  source")
    for model, token in table.tokens.items():
        print(
            f"{model:46} {token.input_per_million:>9.2f} {token.output_per_million:>10.2f}  "
            f"{_yes(token.confirmed):9}  {token.source}"
        )
    print(f"\n{'orchestration':46} {'USD':>13}  {'per':34} confirmed  source")
    for unit in table.orchestration.model_dump().values():
        print(f"{'':46} {unit['usd']:>13.10f}  {unit['unit']:34} {_yes(unit['confirmed']):9}  {unit['source']}")
    return 0


def _yes(confirmed: bool) -> str:
    return "yes" if confirmed else "no"


def _estimate(args: argparse.Namespace) -> int:
    if args.batch is None and (args.defaults or args.format):
        raise UsageError("--defaults and --format: only with --batch")
    events = [_event(args.input)] if args.input is not None else _batch_events(args.batch, args.format, args.defaults)
    estimates = [priced(event, args.pass_rate) for event in events]
    worst = _summed([e.worst_by_model for e in estimates])
    expected = _summed([e.expected_by_model for e in estimates])
    rate = estimates[0].pass_rate
    figures = {
        "worst_case_usd": round(sum(worst.values()), 6),
        "expected_usd": round(sum(expected.values()), 6),
        "pass_rate": rate,
        "runs": len(estimates),
        "images_worst_case": sum(e.images for e in estimates),
        "images_expected": round(sum(e.expected_images for e in estimates), 3),
        "by_model": {
            model: {"worst_case_usd": round(worst[model], 6), "expected_usd": round(expected.get(model, 0), 6)}
            for model in worst
        },
    }
    if args.json:
        print(json.dumps(figures, indent=1))
        return 0
    first = estimates[0]
    print(f"{'run' if len(events) == 1 else f'batch of {len(events)} runs'}:")
    print(
        f"  worst case ${figures['worst_case_usd']:.4f}: every image of the budget "
        f"({figures['images_worst_case']} in all), each judged, {sum(e.rewrites for e in estimates)} prompt rewrite(s)"
    )
    print(
        f"  expected   ${figures['expected_usd']:.4f}: if each image passes with probability {rate} "
        f"(about {figures['images_expected']} image(s))"
    )
    print(f"  {'':44} {'worst case':>12} {'expected':>12}")
    for model, both in figures["by_model"].items():
        print(f"  {model:44} {both['worst_case_usd']:>12.4f} {both['expected_usd']:>12.4f}")
    if len(events) == 1:
        calls = first.calls
        print(
            f"  per call: image ${calls.image:.4f}; judge up to ${calls.judge_worst:.4f} (typically "
            f"${calls.judge_typical:.4f}); reviser up to ${calls.reviser_worst:.4f} "
            f"(typically ${calls.reviser_typical:.4f})"
        )
    return 0


def _summed(parts: list[dict[str, float]]) -> dict[str, float]:
    total: dict[str, float] = {}
    for part in parts:
        for model, usd in part.items():
            total[model] = total.get(model, 0.0) + usd
    return total


def _event(path: Path) -> dict[str, Any]:
    from imgloop.cli.options import read_event

    event: dict[str, Any] = read_event(path)
    return event


def _batch_events(path: Path, form: str | None, defaults: Path | None) -> list[dict[str, Any]]:
    """Each item's request as the batch would run it: the defaults, then the item's own fields."""
    from imgloop.batch.source import read_source

    return batch_requests(read_source(path, form, defaults, None, None))


def batch_requests(source: Any) -> list[dict[str, Any]]:
    """The requests of a batch's readable items (an unreadable one makes no model call)."""
    from common.batch_input import merged, read_items

    items = read_items(source.data, source.form)
    return [
        merged(source.defaults or {}, {k: v for k, v in item.request.items() if k != "id"})
        for item in items
        if item.request is not None
    ]


def capped_event(args: argparse.Namespace) -> dict[str, Any]:
    """`run`'s and `start`'s event, with --max-cost applied."""
    from imgloop.cli.options import read_event

    event: dict[str, Any] = with_cap(read_event(args.input), args.max_cost)
    return event

"""The options of a local run's scenario, shared by `run --local`, `start --local` and `batch --local`."""

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from imgloop.standin import Scenario

# The scenario's options, as (attribute, flag): they mean nothing to an execution on AWS.
SCENARIO_FLAGS = (
    ("reject_first", "--reject-first"),
    ("fail_generate_first", "--fail-generate-first"),
    ("throttle_first", "--throttle-first"),
    ("spill_edits", "--spill-edits"),
    ("assembly", "--assembly"),
)


def count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


def add_scenario_options(parser: argparse.ArgumentParser) -> None:
    """What the Bedrock stand-in does, and which synthesized assembly the local run uses."""
    parser.add_argument(
        "--reject-first", type=count, default=0, metavar="K", help="the judge says no to the first K images"
    )
    parser.add_argument(
        "--fail-generate-first", type=count, default=0, metavar="K", help="the image model refuses its first K calls"
    )
    parser.add_argument(
        "--throttle-first", type=count, default=0, metavar="K", help="the first K Bedrock calls are throttled"
    )
    parser.add_argument(
        "--spill-edits",
        action="store_true",
        help="the image model's edits also change the picture outside the mask (Validate's guard catches it)",
    )
    parser.add_argument(
        "--assembly", type=Path, help="use this synthesized cloud assembly instead of synthesizing anew"
    )


def scenario(args: argparse.Namespace) -> "Scenario":
    """The stand-in's scenario the options ask for."""
    from imgloop.standin import Scenario

    return Scenario(
        reject_first=args.reject_first,
        fail_generate_first=args.fail_generate_first,
        throttle_first=args.throttle_first,
        spill_edits=args.spill_edits,
    )

"""Options and inputs the verbs share: the input event, an edit's image files, and a local run's scenario
(`run --local`, `start --local` and `batch --local`) with the cloud assembly it runs."""

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from common.names import STACK_NAME
from imgloop.errors import UsageError

if TYPE_CHECKING:
    from imgloop.local.standin.service import Scenario

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
    from imgloop.local.standin.service import Scenario

    return Scenario(
        reject_first=args.reject_first,
        fail_generate_first=args.fail_generate_first,
        throttle_first=args.throttle_first,
        spill_edits=args.spill_edits,
    )


def read_json(path: Path) -> Any:
    """A JSON file, with or without the byte-order mark some editors write at the start of UTF-8."""
    return json.loads(path.read_text(encoding="utf-8-sig"))


def read_event(path: Path) -> Any:
    try:
        return read_json(path)
    except (OSError, ValueError) as error:
        raise UsageError(f"cannot read {path}: {error}") from None


def writable_folder(path: Path, flag: str = "--out") -> Path:
    """path, if the command will be able to create it (or write into it): checked before any work is done,
    which would otherwise be lost when the first file is written."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {path}: is a file; give a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise UsageError(f"{flag} {path}: {existing} is a file, so no folder can be made under it; give a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UsageError(f"{flag} {path}: cannot write in {existing} (permission denied); give a folder you may write")
    return path


def writable_file(path: Path, flag: str = "--out") -> Path:
    """path, if the command will be able to write that file: checked before any work is done."""
    if path.is_dir():
        raise UsageError(f"{flag} {path}: is a folder; give the file to write, such as {path / 'report.html'}")
    folder = path.parent
    if not folder.is_dir():
        what = "is a file" if folder.exists() else "does not exist"
        raise UsageError(f"{flag} {path}: {folder} {what}; give a file in an existing folder")
    if not os.access(folder, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"{flag} {path}: cannot write it (permission denied)")
    return path


def add_image_options(parser: argparse.ArgumentParser) -> None:
    """The local files an edit starts from: uploaded to the stack's bucket and named in the event."""
    parser.add_argument(
        "--image", type=Path, metavar="FILE", help="the image to edit (PNG, JPEG or WebP): fills source_image"
    )
    parser.add_argument(
        "--mask", type=Path, metavar="FILE", help="the edit's mask, white where it may change: fills mask_image"
    )


def local_assembly(args: argparse.Namespace) -> Path:
    """The cloud assembly a local run or batch executes: --assembly's, else the CDK app synthesized now."""
    from imgloop.local.assembly import synthesize

    if args.assembly is None:
        if not args.json:
            print("synthesizing the CDK app ...", file=sys.stderr)
        return synthesize()
    if not (args.assembly / f"{STACK_NAME}.template.json").is_file():
        raise UsageError(
            f"--assembly {args.assembly}: no synthesized {STACK_NAME} stack there ({STACK_NAME}.template.json); "
            "make one with `make synth` (it writes cdk.out), or leave out --assembly"
        )
    return Path(args.assembly)

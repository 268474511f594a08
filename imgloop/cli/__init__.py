"""The `imgloop` command.

Exit codes: 0 the run succeeded (or the command did what it was asked), 1 the run failed or a model
check did not pass, 2 the command could not do its work (a bad option or file, no AWS region or
credentials, AWS refused the call, a file or folder that cannot be read or written); then one line on
stderr says why and what to do. 130: stopped by Ctrl-C; one line on stderr says what was kept and how to go on.

`batch` and `batch-status`: 0 when the batch ran and every item it ran succeeded (an item skipped
because it succeeded before counts as succeeded; a batch still running, as `batch-status` without
--wait tells it, is 0 too), 1 when any item failed or the batch itself failed (imgloop.batch.outcome).
"""

import argparse
import sys

from imgloop.cli import batches, deployed, preflight, runs, spend
from imgloop.errors import Command, Interrupted, UsageError


def _parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    parser = argparse.ArgumentParser(prog="imgloop", description="Generate images that meet a written requirement.")
    commands = parser.add_subparsers(dest="command", required=True)
    verbs: dict[str, Command] = {}
    for verbs_of in (runs, preflight, deployed, batches, spend):
        verbs |= verbs_of.add_commands(commands)
    return parser, verbs


def main(argv: list[str] | None = None) -> int:
    parser, commands = _parser()
    args = parser.parse_args(argv)
    try:
        return commands[args.command](args)
    except UsageError as error:
        print(f"imgloop: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"imgloop: {error}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        # A verb that keeps nothing and leaves nothing running (the rest raise Interrupted).
        print("imgloop: interrupted", file=sys.stderr)
        return 130
    except OSError as error:
        # A file or folder the command could not read or write; an OSError naming no path is not that.
        if error.filename is None:
            raise
        print(f"imgloop: {error.filename}: {error.strerror or error}", file=sys.stderr)
        return 2

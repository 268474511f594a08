"""The CLI's one kind of error, and the wrapper that turns AWS's refusals into it.

A UsageError ends the command with its message on one line of stderr and exit code 2, an Interrupted with
its message and exit code 130, as a shell reports a command ended by Ctrl-C (imgloop.cli.main)."""

import argparse
from collections.abc import Callable

from botocore.exceptions import BotoCoreError, ClientError

Command = Callable[[argparse.Namespace], int]


class UsageError(Exception):
    """The command cannot do its work; the message says what is missing or wrong and how to fix it."""


class Interrupted(KeyboardInterrupt):
    """The user pressed Ctrl-C; the message says what was kept and how to go on. A KeyboardInterrupt still,
    so that what it passes through on its way out (the local runner's session) winds down as for Ctrl-C."""


def asking_aws(command: Command) -> Command:
    """The command, with AWS's refusals (expired credentials, access denied, no endpoint) as one line."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (BotoCoreError, ClientError) as error:
            raise UsageError(f"AWS refused or could not be reached: {error}") from None

    return run

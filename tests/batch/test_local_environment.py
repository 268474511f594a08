"""The local functions' settings while a session runs parallel items: set, and never removed before the
session ends (moto's threads read os.environ whenever they make a client), then gone."""

import os
from pathlib import Path

import pytest

from imgloop.local.runner import LocalRunner
from imgloop.runs.executions import follow, start

SET_BY_FUNCTIONS = ("POWERTOOLS_SERVICE_NAME", "BATCH_CONCURRENCY", "ALLOWED_MODELS")


def test_the_functions_settings_stay_set_between_invocations_and_leave_with_the_session(
    assembly: Path, aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in SET_BY_FUNCTIONS:
        monkeypatch.delenv(name, raising=False)
    runner = LocalRunner(assembly)
    [save] = [f for f in runner.workflow.functions.values() if f.handler.startswith("save.")]

    with runner.session() as (sfn, _):
        arn = start(sfn, runner.batch_machine_arn, {"batch": "env", "items": ["A fox, a forest"] * 3}, "env-1")
        assert follow(sfn, arn, poll_seconds=0.05).status == "SUCCEEDED"
        # No invocation runs now, and none of the settings has gone: a thread of moto's reading the
        # environment at this point finds every variable it listed.
        assert {name: os.environ.get(name) for name in SET_BY_FUNCTIONS} == {
            name: save.environment[name] for name in SET_BY_FUNCTIONS
        }

    assert [name for name in SET_BY_FUNCTIONS if name in os.environ] == []

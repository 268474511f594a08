"""The moto part of `make conformance`: every scenario ends on moto as the suite expects, and its task
answers replay to the same end through the bridge's replayer (the other engines run in `make conformance`)."""

from pathlib import Path

import pytest

from tests.conformance.harness import Replayer, record
from tests.conformance.scenarios import scenarios


@pytest.mark.parametrize("scenario", scenarios(), ids=lambda s: s.name)
def test_the_scenario_ends_on_moto_as_expected_and_its_answers_replay(assembly: Path, scenario: object) -> None:
    recording = record(assembly, scenario)  # type: ignore[arg-type]
    assert (recording.end.status, recording.end.error) == (recording.scenario.status, recording.scenario.error)
    replayer = Replayer(recording.calls)
    for call in recording.calls:
        assert replayer.answer(call.function, call.payload) == call.answer
    assert replayer.calls == recording.end.calls

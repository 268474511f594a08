"""Fault injection on the local runner: every fault either recovers or fails with a named error and a short
cause, and no image or attempt is lost or counted twice. The last test checks that docs/reliability.md is the
matrix these runs render; `make reliability` writes it.

Each case runs the state machine once (about a second)."""

import difflib
from pathlib import Path
from typing import Any

import pytest

from tests.faults.cases import CASES, KNOWN_BUGS
from tests.faults.checks import Case
from tests.faults.matrix import COMMAND, DOC, Row, render, run_case

ROWS: dict[str, Row] = {}
WAITS: list[tuple[float, float]] = []  # (wait, bound) of every state machine retry seen in the session


def _params() -> list[Any]:
    return [
        pytest.param(c, id=c.id, marks=pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[c.id]))
        if c.id in KNOWN_BUGS
        else pytest.param(c, id=c.id)
        for c in CASES
    ]


@pytest.mark.parametrize("case", _params())
def test_fault(case: Case, assembly: Path, s3: Any) -> None:
    ran = run_case(case, assembly, s3)

    WAITS.extend(ran.checked.waits)
    ROWS[case.id] = ran.row
    assert not ran.checked.problems, "\n".join(ran.checked.problems)


def test_retries_wait_with_full_jitter() -> None:
    if len(WAITS) < 10:
        pytest.skip("too few retries seen in this session to judge the jitter")
    assert all(0 <= wait <= bound for wait, bound in WAITS)
    # Without jitter every wait would sit on its bound.
    assert sum(wait < 0.9 * bound for wait, bound in WAITS) >= len(WAITS) // 3


def test_reliability_doc_is_current() -> None:
    missing = [c.id for c in CASES if c.id not in ROWS]
    if missing:
        pytest.skip(f"the whole matrix must run to check the document; missing {', '.join(missing)}")
    rendered = render([ROWS[c.id] for c in CASES])
    committed = DOC.read_text() if DOC.exists() else ""
    if rendered != committed:
        diff = difflib.unified_diff(
            committed.splitlines(), rendered.splitlines(), "committed", "these runs", n=0, lineterm=""
        )
        shown = "\n".join(list(diff)[:40])
        pytest.fail(f"{DOC.relative_to(DOC.parents[1])} is out of date: run `{COMMAND}` and commit it.\n{shown}")

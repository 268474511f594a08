"""Where `python -m bench` writes its report: the committed docs/performance.md only on the full run (or when
--doc names it); --quick and the other partial runs write out/bench/performance.md, and say so. The run itself
is replaced by stubs, so these tests take no time."""

from pathlib import Path
from typing import Any

import pytest

import bench.report
import bench.run
from bench.__main__ import COMMITTED_DOC, SCRATCH_DOC, main, parse, report_path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], COMMITTED_DOC),
        (["--quick"], SCRATCH_DOC),
        (["--prompts", "2"], SCRATCH_DOC),
        (["--repeats", "1"], SCRATCH_DOC),
        (["--scale", "0"], SCRATCH_DOC),
        (["--quick", "--doc", "docs/performance.md"], COMMITTED_DOC),
        (["--doc", "elsewhere.md"], Path("elsewhere.md")),
        (["--quick", "--doc", "none"], None),
    ],
)
def test_only_the_full_run_writes_the_committed_report_unless_asked(argv: list[str], expected: Path | None) -> None:
    assert report_path(parse(argv)) == expected


def test_a_quick_run_writes_under_out_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def stub(value: Any) -> Any:
        return lambda *args, **kwargs: value

    monkeypatch.setattr(bench.run, "run_all", stub(None))
    monkeypatch.setattr(bench.run, "figures", stub({}))
    monkeypatch.setattr(bench.run, "invariants", stub({}))
    monkeypatch.setattr(bench.run, "dumps", stub("{}"))
    monkeypatch.setattr(bench.report, "console_table", stub("table"))
    monkeypatch.setattr(bench.report, "document", stub("# Performance\n"))
    monkeypatch.chdir(tmp_path)

    assert main(["--quick", "--assembly", str(tmp_path)]) == 0

    assert (tmp_path / SCRATCH_DOC).read_text() == "# Performance\n"
    assert not (tmp_path / COMMITTED_DOC).exists()
    assert f"wrote {SCRATCH_DOC} (not {COMMITTED_DOC}" in capsys.readouterr().out

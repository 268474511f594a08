"""`imgloop run --local`: live progress, one JSON object with --json, exit code 0 only on success."""

import json
from pathlib import Path
from typing import Any

import pytest

from imgloop.cli import main
from tests.conftest import EVENTS


def test_json_mode_prints_one_object_and_exits_zero_on_success(
    assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", "--local", "--input", str(EVENTS / "s1_example.json"), "--assembly", str(assembly)]
    code = main([*args, "--out", str(tmp_path), "--name", "cli-json", "--json", "--reject-first", "1"])

    printed = capsys.readouterr().out.strip().splitlines()
    assert code == 0 and len(printed) == 1
    result = json.loads(printed[0])
    assert set(result) == {"status", "output", "error", "cause"}
    assert result["status"] == "SUCCEEDED" and result["output"]["attempt"] == 2
    folder = tmp_path / "cli-json"
    assert sorted(p.name for p in folder.iterdir()) == ["execution.json", "manifest.json", "r00-a01.png", "r00-a02.png"]
    assert (folder / "r00-a02.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _run(assembly: Path, tmp_path: Path, event: dict[str, Any], *options: str) -> int:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    local = ["run", "--local", "--input", str(path), "--assembly", str(assembly), "--out", str(tmp_path)]
    return main([*local, *options])


def test_progress_names_each_state_with_revision_attempt_and_verdict(
    assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"prompt": "a lighthouse", "max_retry_attempts": 1, "max_prompt_revisions": 1}
    code = _run(assembly, tmp_path, event, "--name", "cli-live", "--reject-first", "1", "--throttle-first", "1")

    out = capsys.readouterr().out
    assert code == 0
    assert "[r00 a01] Validate image     FAIL score 4/10" in out
    assert "[r00 a01] Revise prompt      new prompt: a lighthouse. Show a lighthouse larger" in out
    assert "[r01 a01] Validate image     PASS score 9/10" in out
    assert "task failed: ModelThrottled" in out
    assert "execution cli-live: SUCCEEDED" in out


def test_a_failed_run_exits_non_zero(
    assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = {"prompt": "a lighthouse", "max_retry_attempts": 1, "max_prompt_revisions": 0}
    code = _run(assembly, tmp_path, event, "--json", "--reject-first", "5")

    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == 1
    assert result["status"] == "FAILED" and result["error"] == "RequirementsNotMet"


def test_without_local_it_says_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--input", "x.json"]) == 2
    assert "imgloop start --input EVENT.json" in capsys.readouterr().err


def test_start_wait_fetch_and_report_on_a_deployed_stack(
    runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse", "max_retry_attempts": 2, "max_prompt_revisions": 0}))
    with runner(reject_first=1).session() as (_, machine):
        monkeypatch.setattr("imgloop.remote.stack_outputs", lambda cloudformation, stack: {"StateMachineArn": machine})
        started = main(["start", "--input", str(event), "--name", "remote-1", "--wait", "--region", "us-west-2"])
        printed = capsys.readouterr().out
        arn = printed.splitlines()[0]
        fetched = main(["fetch", arn, "--out", str(tmp_path / "out"), "--region", "us-west-2"])
        reported = main(["report", arn, "--out", str(tmp_path / "report.html"), "--region", "us-west-2"])

    assert started == 0 and arn.endswith(":remote-1")
    assert "[r00 a01] Validate image     FAIL" in printed and '"status": "SUCCEEDED"' in printed
    assert fetched == 0 and reported == 0
    assert sorted(p.name for p in (tmp_path / "out" / "remote-1").iterdir()) == [
        "execution.json",
        "manifest.json",
        "r00-a01.png",
        "r00-a02.png",
    ]
    assert (tmp_path / "report.html").read_text().count("<img") == 2


def test_start_local_is_a_local_run(
    assembly: Path, aws: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse", "max_retry_attempts": 1, "max_prompt_revisions": 0}))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("imgloop.cli.synthesize", lambda: assembly)
    assert main(["start", "--local", "--input", str(event), "--name", "local-start"]) == 0
    assert "execution local-start: SUCCEEDED" in capsys.readouterr().out
    assert (tmp_path / "out" / "local-start" / "r00-a01.png").exists()

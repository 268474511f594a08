"""Ctrl-C, as a user presses it: SIGINT sent to a real `imgloop` process in the middle of a local run or
batch. The command ends with one line on stderr (what it kept, how to go on) and exit code 130, what
finished is on disk, and the same batch command goes on from there, skipping what finished."""

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _interrupted(command: list[str], cwd: Path, ready: Callable[[], bool]) -> tuple[int, str, str]:
    """Run `python -m imgloop.cli *command`, send SIGINT once ready() says it is mid-work."""
    process = subprocess.Popen(
        [sys.executable, "-m", "imgloop.cli", *command],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, "the command ended before it could be interrupted"
        assert time.monotonic() < deadline, "the command did not get going"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    return process.returncode, out, err


def test_ctrl_c_in_a_local_run_keeps_its_images_and_says_so_in_one_line(assembly: Path, tmp_path: Path) -> None:
    # 110 images, each rejected: a run long enough to be stopped half way.
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse", "max_retry_attempts": 10, "max_prompt_revisions": 10}))
    folder = tmp_path / "out" / "stopped"
    command = ["run", "--local", "--input", str(event), "--assembly", str(assembly), "--reject-first", "1000"]
    command += ["--out", str(tmp_path / "out"), "--name", "stopped"]

    code, _, err = _interrupted(command, tmp_path, lambda: len(list(folder.glob("*.png"))) >= 2)

    assert code == 130
    kept = sorted(folder.glob("*.png"))
    assert err == (
        f"imgloop: interrupted: {len(kept)} image(s) and the manifest so far kept in {folder}/; a run does not "
        "resume: to run it again, give the same command with --replace\n"
    )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert len(kept) >= 2 and all(path.read_bytes()[:4] == b"\x89PNG" for path in kept)
    assert manifest["execution_name"] == "stopped"


def test_ctrl_c_in_a_local_batch_keeps_what_finished_and_the_same_command_goes_on(
    assembly: Path, tmp_path: Path
) -> None:
    items = tmp_path / "items.txt"
    items.write_text("".join(f"a lighthouse number {n}\n" for n in range(1, 61)), encoding="utf-8")
    folder = tmp_path / "out" / "long"
    command = ["batch", "--local", "--input", str(items), "--assembly", str(assembly), "--concurrency", "1"]
    command += ["--out", str(tmp_path / "out"), "--name", "long"]

    code, _, err = _interrupted(command, tmp_path, lambda: len(list((folder / "items").glob("*.json"))) >= 3)

    assert code == 130
    records = sorted((folder / "items").glob("*.json"))
    assert err == (
        f"imgloop: interrupted: {len(records)} finished item(s) kept in {folder}; run the same command again "
        "to go on (what finished is skipped)\n"
    )
    assert 3 <= len(records) < 60
    for record in records:
        run = folder / "items" / record.stem
        assert json.loads(record.read_text(encoding="utf-8"))["status"] == "SUCCEEDED"
        assert {"manifest.json", "report.html", "r00-a01.png"} <= {path.name for path in run.iterdir()}

    again = subprocess.run(
        [sys.executable, "-m", "imgloop.cli", *command, "--json"], cwd=tmp_path, capture_output=True, text=True
    )

    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert (result["items"], result["skipped"], result["succeeded"]) == (60, len(records), 60 - len(records))

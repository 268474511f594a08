"""`imgloop batch --local` as a user runs it: the input forms, one JSON object with --json, the files it
fetches, live progress, exit codes, a re-run under the same name that skips what succeeded, and one line
on stderr (exit 2) for whatever stops it before a batch starts."""

import json
import os
import re
import shutil
import subprocess
import sys
from contextlib import redirect_stdout
from dataclasses import dataclass
from io import StringIO
from pathlib import Path
from typing import Any

import pytest

from imgloop.cli import main
from tests.batch.pages import tiles

ROOT = Path(__file__).resolve().parents[2]
# Three items run, the third line is not JSON: it ends as InvalidInput with its line number.
JSONL = [
    json.dumps({"prompt": "a red fox in the snow"}),
    json.dumps({"id": "owl", "prompt": "an owl on a branch at night"}),
    "{not json",
    json.dumps("a small paper boat on a pond"),
]
DEFAULTS = {"max_retry_attempts": 2, "max_prompt_revisions": 0}


@dataclass(frozen=True)
class Ran:
    code: int
    out: str
    folder: Path


def _batch(assembly: Path, out: Path, *options: str) -> Ran:
    """`imgloop batch --local` in this process, its stdout kept."""
    printed = StringIO()
    with redirect_stdout(printed):
        code = main(["batch", "--local", "--assembly", str(assembly), "--out", str(out), *options])
    name = options[options.index("--name") + 1]
    return Ran(code, printed.getvalue(), out / name)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def first(assembly: Path, tmp_path_factory: pytest.TempPathFactory) -> Ran:
    """A jsonl batch with one unreadable line, run once for the tests of this module to look at."""
    work = tmp_path_factory.mktemp("jsonl")
    items = _write(work, "items.jsonl", "\n".join(JSONL) + "\n")
    defaults = _write(work, "defaults.json", json.dumps(DEFAULTS))
    return _batch(
        assembly, work / "out", "--input", str(items), "--defaults", str(defaults), "--name", "foxes", "--json"
    )


def test_json_mode_prints_one_object_and_exits_one_when_an_item_failed(first: Ran) -> None:
    printed = first.out.strip().splitlines()
    assert first.code == 1 and len(printed) == 1
    result = json.loads(printed[0])
    plan = result.pop("plan")
    # Planned from the plan's defaults (the stand-in lists no quota): 3 items with 2 attempts each.
    assert (plan["concurrency"], plan["items"], plan["binding"]["source"]) == (3, 3, "default")
    assert result == {
        "status": "SUCCEEDED",
        "batch": "foxes",
        "execution": "arn:aws:states:us-west-2:123456789012:execution:ImageLoop-batches:foxes",
        "items": 4,
        "succeeded": 3,
        "failed": 1,
        "skipped": 0,
        "images": 3,
        # Each image at SD3.5 Large's $0.08 and its judge call at the stand-in's usage ($0.006435).
        "cost_usd": pytest.approx(3 * 0.086435),
        "manifest": str(first.folder / "manifest.jsonl"),
        "report": str(first.folder / "report.html"),
        "error": None,
        "cause": None,
    }


def test_the_manifest_has_a_line_per_item_and_names_the_unreadable_line(first: Ran) -> None:
    lines = _lines(first.folder / "manifest.jsonl")
    assert [(line["line"], line["id"], line["status"]) for line in lines] == [
        (1, "00001", "SUCCEEDED"),
        (2, "owl", "SUCCEEDED"),
        (3, "00003", "FAILED"),
        (4, "00004", "SUCCEEDED"),
    ]
    bad = lines[2]
    assert bad["error"] == "InvalidInput" and bad["cause"].startswith("line 3: not JSON")
    assert bad["images"] == 0 and bad["manifest"] is None
    summary = json.loads((first.folder / "batch.json").read_text())
    assert summary["message"] == "4 item(s): 3 succeeded, 1 failed; 3 image(s) made. Failed: InvalidInput x1."


def test_each_item_that_ran_has_its_run_its_record_and_its_report(first: Ran) -> None:
    items = first.folder / "items"
    assert sorted(p.name for p in items.iterdir()) == [
        "00001",
        "00001.json",
        "00003.json",
        "00004",
        "00004.json",
        "owl",
        "owl.json",
    ]
    owl = items / "owl"
    assert sorted(p.name for p in owl.iterdir()) == ["execution.json", "manifest.json", "r00-a01.png", "report.html"]
    manifest = json.loads((owl / "manifest.json").read_text(encoding="utf-8"))
    # The defaults reached the item's request, under its own fields.
    assert manifest["request"]["prompt"] == "an owl on a branch at night"
    assert (manifest["request"]["max_retry_attempts"], manifest["request"]["max_prompt_revisions"]) == (2, 0)
    assert json.loads((owl / "execution.json").read_text())["status"] == "SUCCEEDED"
    assert '<span class="status succeeded">Succeeded</span>' in (owl / "report.html").read_text(encoding="utf-8")
    assert json.loads((items / "00003.json").read_text())["error"] == "InvalidInput"


def test_the_batch_report_has_a_tile_per_item_linking_to_its_report(first: Ran) -> None:
    page = (first.folder / "report.html").read_text(encoding="utf-8")
    found = tiles(page)
    # Failed items first, then the others in the input's order.
    assert [(t.id, t.status) for t in found] == [
        ("00003", "failed"),
        ("00001", "succeeded"),
        ("owl", "succeeded"),
        ("00004", "succeeded"),
    ]
    for tile in found:
        if tile.id == "00003":
            assert tile.picture is None and tile.links == []
            continue
        assert tile.picture == f"items/{tile.id}/r00-a01.png" and (first.folder / tile.picture).is_file()
        assert set(tile.links) == {f"items/{tile.id}/report.html"}
    assert "line 3: not JSON" in page and "3 image(s) made" in page


def test_a_rerun_under_the_same_name_skips_what_succeeded(first: Ran, assembly: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    shutil.copytree(first.folder, out / "foxes")
    images = {p: p.read_bytes() for p in (out / "foxes" / "items").glob("*/*.png")}
    fixed = [*JSONL[:2], json.dumps({"prompt": "a fixed line"}), *JSONL[3:]]
    items = _write(tmp_path, "items.jsonl", "\n".join(fixed) + "\n")
    defaults = _write(tmp_path, "defaults.json", json.dumps(DEFAULTS))

    again = _batch(assembly, out, "--input", str(items), "--defaults", str(defaults), "--name", "foxes", "--json")

    result = json.loads(again.out)
    assert again.code == 0
    assert (result["items"], result["succeeded"], result["failed"], result["skipped"], result["images"]) == (
        4,
        1,
        0,
        3,
        1,
    )
    # A later execution of the batch gets a name of its own: <batch>-<UTC time>.
    assert re.fullmatch(r".*:execution:ImageLoop-batches:foxes-\d{8}T\d{6}Z", result["execution"])
    lines = _lines(again.folder / "manifest.jsonl")
    assert [line["skipped"] for line in lines] == [True, True, False, True]
    assert {line["execution"] for line in lines if line["skipped"]} == {"foxes"}
    assert (lines[2]["status"], lines[2]["run"], lines[2]["runs"]) == (
        "SUCCEEDED",
        "foxes-00003-2",
        ["foxes-00003", "foxes-00003-2"],
    )
    # The skipped items made no image: their folders hold what the first execution made.
    after = {p: p.read_bytes() for p in (out / "foxes" / "items").glob("*/*.png")}
    assert {p: b for p, b in after.items() if p.parent.name != "00003"} == images
    assert sorted(p.name for p in (out / "foxes" / "items" / "00003").glob("*.png")) == ["r00-a01.png"]
    assert [t.status for t in tiles((again.folder / "report.html").read_text(encoding="utf-8"))] == [
        "skipped",
        "skipped",
        "succeeded",
        "skipped",
    ]


def test_a_csv_batch_shows_its_progress_and_where_its_files_are(assembly: Path, tmp_path: Path) -> None:
    table = "id,prompt,generator.seed,max_retry_attempts\nlake,a calm lake,42,1\n,1984,7,1\n"
    items = _write(tmp_path, "items.csv", table)

    ran = _batch(assembly, tmp_path / "out", "--input", str(items), "--name", "table", "--concurrency", "1")

    assert ran.code == 0
    worst, *lines = ran.out.splitlines()
    assert worst.startswith("worst case: $") and "for this batch of 2 runs" in worst
    # Not a terminal: the plan once the batch is read, then plain progress lines, then the outcome.
    plan = [
        # Each item's budget: 1 attempt for each of 3 prompts (the original and 2 revisions), 42 s.
        "plan: 1 item(s) at once, about 4.3 image request(s) a minute, 84 s for 2 item(s)",
        "  binding quota: InvokeModel requests per minute for stability.sd3-5-large-v1:0: 24 requests a minute "
        "(an unconfirmed default: Service Quotas lists none for the model); expected use 4 (18%)",
    ]
    assert lines[: len(plan)] == plan
    progress = [line for line in lines if line.startswith("batch table: ")]
    done = "batch table: 2/2 done: 2 succeeded, 0 failed; 0 running; 2 image(s) made; $"
    assert progress and progress[-1].startswith(done)
    assert lines[len(plan) + len(progress) :] == [
        "batch table, execution table: SUCCEEDED",
        "2 item(s): 2 succeeded, 0 failed; 2 image(s) made.",
        *plan,
        f"manifest: {ran.folder / 'manifest.jsonl'}",
        f"report:   {ran.folder / 'report.html'}",
    ]
    lake = json.loads((ran.folder / "items" / "lake" / "manifest.json").read_text())["request"]
    assert (lake["prompt"], lake["generator"]["seed"], lake["max_retry_attempts"]) == ("a calm lake", 42, 1)
    # A prompt column stays text even when it reads as a number; the id comes from the line.
    second = json.loads((ran.folder / "items" / "00003" / "manifest.json").read_text())["request"]
    assert (second["prompt"], second["generator"]["seed"]) == ("1984", 7)


def test_the_command_run_as_a_program_takes_a_text_file_by_format(assembly: Path, tmp_path: Path) -> None:
    items = _write(tmp_path, "titles.list", "宇宙の果てまで旅する猫の物語\n\n雨の日の京都を歩く\n")
    defaults = _write(tmp_path, "defaults.json", json.dumps({"max_retry_attempts": 1, "translate": True}))
    command = [sys.executable, "-m", "imgloop.cli", "batch", "--local", "--input", str(items), "--format", "text"]
    command += ["--defaults", str(defaults), "--name", "titles", "--out", str(tmp_path / "out")]
    environment = os.environ | {"JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20"}

    done = subprocess.run(
        [*command, "--assembly", str(assembly)], capture_output=True, text=True, cwd=ROOT, env=environment, timeout=300
    )

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "batch titles: 2/2 done: 2 succeeded, 0 failed; 0 running; 2 image(s) made; $" in done.stdout
    lines = _lines(tmp_path / "out" / "titles" / "manifest.jsonl")
    # Blank lines are skipped; ids are the line numbers.
    assert [(line["id"], line["line"]) for line in lines] == [("00001", 1), ("00003", 3)]
    request = json.loads((tmp_path / "out" / "titles" / "items" / "00003" / "manifest.json").read_text())["request"]
    assert (request["prompt"], request["translate"]) == ("雨の日の京都を歩く", True)


def test_a_prompt_holding_a_line_separator_is_fetched_whole(assembly: Path, tmp_path: Path) -> None:
    prompt = "a cat\u2028on a mat"  # JSON keeps U+2028 raw: the manifest's line holds it as it is
    items = _write(tmp_path, "items.jsonl", json.dumps({"prompt": prompt, "max_retry_attempts": 1}) + "\n")

    ran = _batch(assembly, tmp_path / "out", "--input", str(items), "--name", "separator", "--json")

    assert ran.code == 0
    [line] = (ran.folder / "manifest.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    assert json.loads(line)["prompt"] == prompt
    assert [t.status for t in tiles((ran.folder / "report.html").read_text(encoding="utf-8"))] == ["succeeded"]


REFUSED = {
    "a missing file": (["--input", "MISSING.jsonl"], "imgloop: cannot read MISSING.jsonl: No such file or directory"),
    "an unknown extension": (["--input", "ITEMS.list"], "imgloop: ITEMS.list: its extension does not say"),
    "an unknown --format": (["--input", "ITEMS.list", "--format", "yaml"], "imgloop: --format 'yaml': must be one of"),
    "defaults that are not an object": (
        ["--input", "ITEMS.jsonl", "--defaults", "LIST.json"],
        "imgloop: --defaults LIST.json: must be a JSON object of request fields",
    ),
    "a bad name": (["--input", "ITEMS.jsonl", "--name", "no/slash"], "imgloop: --name 'no/slash': must be 1-40"),
    "a name too long": (["--input", "ITEMS.jsonl", "--name", "n" * 41], "imgloop: --name 'nnnn"),
    "no concurrency": (["--input", "ITEMS.jsonl", "--concurrency", "0"], "imgloop: --concurrency 0: must be 1 to 100"),
    "a CSV without a prompt column": (["--input", "NOPROMPT.csv"], "imgloop: NOPROMPT.csv: a CSV batch needs"),
    "a file that is not UTF-8": (["--input", "LATIN1.txt"], "imgloop: LATIN1.txt: must be UTF-8 text (byte 3 is not)"),
    "a file of blank lines": (["--input", "BLANK.txt"], "imgloop: BLANK.txt: holds no items"),
    "a local-only option on AWS": (["--input", "ITEMS.jsonl", "--reject-first", "1"], "imgloop: --reject-first: only"),
    "defaults no item can run with": (
        ["--input", "ITEMS.jsonl", "--defaults", "UNKNOWN.json"],
        "imgloop: --defaults UNKNOWN.json: colour: unknown field (not part of the request)",
    ),
    "a prompt longer than a run takes": (
        ["--input", "LONG.txt", "--local"],
        "imgloop: LONG.txt line 2: the prompt is 300,000 characters; a run takes at most 4,000",
    ),
    "a request larger than a state holds": (
        ["--input", "HUGE.jsonl", "--local"],
        "imgloop: HUGE.jsonl line 1: the request is 300,032 bytes as JSON; an item's may be at most 64 KiB",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_stops_a_batch_before_it_starts_is_one_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "ITEMS.jsonl": b'{"prompt": "a fox"}\n',
        "ITEMS.list": b"a fox\n",
        "LIST.json": b'["a fox"]',
        "NOPROMPT.csv": b"text\na fox\n",
        "LATIN1.txt": "café\n".encode("latin-1"),
        "BLANK.txt": b"\n  \n",
        "UNKNOWN.json": b'{"colour": "red"}',
        "LONG.txt": b"a fox\n" + b"x" * 300_000 + b"\n",
        "HUGE.jsonl": json.dumps({"prompt": "a fox", "notes": "x" * 300_000}).encode() + b"\n",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    argv, message = REFUSED[case]
    argv = [str(tmp_path / a) if a in {*files, "MISSING.jsonl"} else a for a in argv]
    message = re.sub(r"\b[A-Z0-9]+\.(jsonl|list|json|csv|txt)\b", lambda m: str(tmp_path / m.group(0)), message)

    code = main(["batch", *argv, "--out", str(tmp_path / "out")])

    out, err = capsys.readouterr()
    assert code == 2
    assert out == "" and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_a_folder_that_holds_a_run_is_not_a_batchs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = _write(tmp_path, "items.jsonl", '{"prompt": "a fox"}\n')
    run = tmp_path / "out" / "taken"
    run.mkdir(parents=True)
    (run / "execution.json").write_text("{}")
    (tmp_path / "out" / "other").mkdir()
    (tmp_path / "out" / "other" / "notes.txt").write_text("mine")

    local = ["batch", "--local", "--input", str(items), "--out", str(tmp_path / "out")]
    assert main([*local, "--name", "taken"]) == 2
    assert capsys.readouterr().err == f"imgloop: {run} holds a run, not a batch: choose another --name or --out\n"
    assert main([*local, "--name", "other", "--replace"]) == 2
    assert "is not a batch's folder" in capsys.readouterr().err
    assert (tmp_path / "out" / "other" / "notes.txt").read_text() == "mine"


def test_defaults_that_need_what_the_items_give_are_not_refused(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Alone, with some prompt, these defaults fail (image-to-image needs a source image); each item gives one.
    source = {"bucket": "imgloop-local-images", "key": "uploads/lake.png"}
    items = _write(tmp_path, "items.jsonl", json.dumps({"prompt": "a lake at dawn", "source_image": source}) + "\n")
    defaults = _write(tmp_path, "defaults.json", json.dumps({"mode": "image-to-image", "max_retry_attempts": 1}))

    ran = _batch(assembly, tmp_path / "out", "--input", str(items), "--defaults", str(defaults), "--name", "lake")

    assert "--defaults" not in capsys.readouterr().err
    assert ran.code in (0, 1)  # the batch started; its item's own outcome is not this test's business

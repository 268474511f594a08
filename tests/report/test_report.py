"""`imgloop report`: one self-contained HTML page of a run, checked as text and in a real headless Chromium."""

import base64
import io
import json
import re
import shutil
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from imgloop.cli import main
from imgloop.runs.report import render_report, report_from_local_run

TRICKY = 'He said "no" <b>&</b> 夜'
TRICKY_ESCAPED = "He said &#34;no&#34; &lt;b&gt;&amp;&lt;/b&gt; 夜"
PNG = b"\x89PNG\r\n\x1a\n"


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def _entry(revision: int, attempt: int, candidate: int = 1, **fields: Any) -> dict[str, Any]:
    name = f"r{revision:02d}-a{attempt:02d}-c{candidate}.png"
    entry = {
        "revision": revision,
        "attempt": attempt,
        "candidate": candidate,
        "outcome": "image",
        "prompt": TRICKY if revision == 0 else "a calm lake, revised",
        "negative_prompt": "" if revision == 0 else "blur & <noise>",
        "model_id": "stability.sd3-5-large-v1:0",
        "seed": 1000 * revision + 10 * attempt + candidate,
        "key": f"generated-images/report-run/{name}",
        "verdict": {
            "passed": False,
            "score": 4,
            "reason": f"not yet: <{name}>",
            "judged_by": "us.anthropic.claude-sonnet-4-6",
            "judged_at": "2026-11-22T00:20:06.900+00:00",
        },
        "created_at": f"2026-11-22T00:20:0{revision + attempt}.250+00:00",
    }
    return entry | fields


def _manifest() -> dict[str, Any]:
    """Two revisions, two candidates per attempt; one refusal; the winner at revision 1, attempt 1, candidate 2."""
    passed = {"passed": True, "score": 9, "reason": "all checks met", "judged_by": "us.anthropic.claude-sonnet-4-6"}
    refused = {"outcome": "refused", "key": None, "verdict": None, "refusal": "model rejected the prompt: <Japanese>"}
    return {
        "execution_id": "arn:aws:states:us-west-2:123456789012:execution:ImageLoop:report-run",
        "execution_name": "report-run",
        "started_at": "2026-11-22T00:20:00.000+00:00",
        "finished_at": "2026-11-22T00:20:09.500+00:00",
        "status": "succeeded",
        "request": {
            "prompt": TRICKY,
            "candidates": 2,
            "generator": {"model_id": "stability.sd3-5-large-v1:0"},
            "validator": {"model_id": "us.anthropic.claude-sonnet-4-6"},
            "reviser": {"model_id": "amazon.nova-pro-v1:0"},
        },
        "winner": {"revision": 1, "attempt": 1, "candidate": 2, "key": "generated-images/report-run/r01-a01-c2.png"},
        "entries": [
            _entry(0, 1, 1, **refused),
            _entry(0, 1, 2),
            _entry(0, 2, 1),
            _entry(0, 2, 2),
            _entry(1, 1, 1),
            _entry(1, 1, 2, verdict=passed),
        ],
    }


def _images(manifest: dict[str, Any]) -> dict[str, bytes]:
    colours = ["red", "green", "blue", "orange", "purple"]
    names = [e["key"].rsplit("/", 1)[1] for e in manifest["entries"] if e["key"]]
    return {name: _png(colour) for name, colour in zip(names, colours, strict=True)}


class _Grid(HTMLParser):
    """The table body as {revision row: [[figure ids of attempt 1], [of attempt 2], ...]}, and the <img> tags."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self.images: list[dict[str, str]] = []
        self.winners: list[str] = []
        self._row: list[list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "tr" and "id" in found:
            self._row = self.rows.setdefault(found["id"], [])
        elif tag == "td" and self._row is not None:
            self._row.append([])
        elif tag == "figure" and self._row is not None:
            self._row[-1].append(found["id"])
            if "winner" in found.get("class", "").split():
                self.winners.append(found["id"])
        elif tag == "img":
            self.images.append(found)


def _parse(page: str) -> _Grid:
    grid = _Grid()
    grid.feed(page)
    return grid


def test_every_image_is_embedded_in_its_revision_row_and_attempt_column() -> None:
    manifest = _manifest()
    images = _images(manifest)
    page = render_report(manifest, images)

    grid = _parse(page)
    assert grid.rows == {
        "r00": [["r00-a01-c1", "r00-a01-c2.png"], ["r00-a02-c1.png", "r00-a02-c2.png"]],
        "r01": [["r01-a01-c1.png", "r01-a01-c2.png"], []],
    }
    assert len(grid.images) == len(images) == 5
    for name, data in images.items():
        (img,) = [i for i in grid.images if i["alt"] == name]
        assert img["src"] == "data:image/png;base64," + base64.b64encode(data).decode()


def test_refused_generation_is_a_placeholder_with_its_reason() -> None:
    page = render_report(_manifest(), {})

    refused = page.split("<figure id='r00-a01-c1'", 1)[1].split("</figure>", 1)[0]
    assert "class='refused'" in refused and "<img" not in refused
    assert "Refused" in refused and "model rejected the prompt: &lt;Japanese&gt;" in refused
    assert page.count("Image file missing") == 5  # no files given: every image is a placeholder too


def test_winner_is_marked_and_named() -> None:
    manifest = _manifest()
    page = render_report(manifest, _images(manifest))

    assert _parse(page).winners == ["r01-a01-c2.png"]
    assert page.count("WINNER") == 1
    assert "r01-a01-c2.png (revision 1, attempt 1, candidate 2)" in page


def test_verdicts_timings_and_models_are_shown() -> None:
    page = render_report(_manifest(), {})

    assert page.count("class='tag fail'>FAIL</span><span class='score'>4/10") == 4
    assert page.count("class='tag pass'>PASS</span><span class='score'>9/10") == 1
    assert "not yet: &lt;r00-a02-c1.png&gt;" in page
    assert "2026-11-22 00:20:00 UTC" in page and "2026-11-22 00:20:09 UTC (9.5 s)" in page
    assert "00:20:02.250 (+2.25 s)" in page  # r00 a02: created_at and its offset from the start
    for model in ("stability.sd3-5-large-v1:0", "us.anthropic.claude-sonnet-4-6", "amazon.nova-pro-v1:0"):
        assert f"<dd>{model}</dd>" in page


def test_all_text_is_escaped_and_the_title_shows_requirement_and_status() -> None:
    manifest = _manifest()
    page = render_report(manifest, _images(manifest))

    assert TRICKY not in page and "<b>" not in page and "<noise>" not in page
    assert f"<title>Succeeded: {TRICKY_ESCAPED} - imgloop report</title>" in page
    assert page.count(TRICKY_ESCAPED) == 3  # title, heading, and the prompt of revision 0
    assert "blur &amp; &lt;noise&gt;" in page


def test_page_is_self_contained() -> None:
    manifest = _manifest()
    page = render_report(manifest, _images(manifest))

    assert "<script" not in page and "<link" not in page and "@import" not in page
    assert re.findall(r"""(?:src|href)=['"](?!data:)""", page) == []
    assert "url(" not in page


def _run_folder(folder: Path, manifest: dict[str, Any], execution: dict[str, Any] | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    for name, data in _images(manifest).items():
        (folder / name).write_bytes(data)
    if execution is not None:
        (folder / "execution.json").write_text(json.dumps(execution), encoding="utf-8")
    return folder


def test_report_command_reads_a_local_run_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = _run_folder(tmp_path / "report-run", _manifest())
    (run_dir / "r00-a02-c2.png").unlink()

    out = tmp_path / "pages" / "report.html"
    out.parent.mkdir()
    assert main(["report", "--local-run", str(run_dir), "--out", str(out)]) == 0
    page = out.read_text(encoding="utf-8")
    assert page == report_from_local_run(run_dir)
    assert len(_parse(page).images) == 4 and page.count("Image file missing") == 1
    assert capsys.readouterr().out.strip() == f"report: {out}"


def test_report_command_takes_the_out_folder_of_one_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run_dir = _run_folder(tmp_path / "out" / "report-run", _manifest())

    out = tmp_path / "report.html"
    assert main(["report", "--local-run", str(tmp_path / "out"), "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == report_from_local_run(run_dir)


def test_report_command_lists_the_runs_when_the_folder_holds_several(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("run-b", "run-a"):
        _run_folder(tmp_path / "out" / name, _manifest())
    (tmp_path / "out" / "not-a-run").mkdir()

    assert main(["report", "--local-run", str(tmp_path / "out"), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "2 runs there; give one of them as --local-run:" in err
    assert err.splitlines()[1:] == [f"  {tmp_path / 'out' / 'run-a'}", f"  {tmp_path / 'out' / 'run-b'}"]
    assert not (tmp_path / "r.html").exists()


def test_report_command_without_a_run_fails_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--out", str(tmp_path / "r.html")]) == 2
    assert "--local-run DIR" in capsys.readouterr().err
    assert main(["report", "--local-run", str(tmp_path / "nothing"), "--out", str(tmp_path / "r.html")]) == 2
    assert "cannot read the run" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["report", "--local-run", str(tmp_path / "empty"), "--out", str(tmp_path / "r.html")]) == 2
    assert "no run there" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()


def test_a_rejected_run_has_no_report_and_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rejected = tmp_path / "rejected"
    rejected.mkdir()
    summary = {"status": "FAILED", "output": None, "error": "InvalidInput", "cause": "prompt: Field required"}
    (rejected / "execution.json").write_text(json.dumps(summary))

    assert main(["report", "--local-run", str(rejected), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "no manifest.json" in err and "InvalidInput: prompt: Field required" in err


def test_a_failed_run_shows_its_error_and_cause_in_the_header(tmp_path: Path) -> None:
    manifest = _manifest() | {"status": "requirements_not_met", "winner": None}
    cause = "No image met the requirement: 5 image(s) made. Best: score 4/10 <r00-a02-c1.png>."
    summary = {"status": "FAILED", "output": None, "error": "RequirementsNotMet", "cause": cause}
    page = report_from_local_run(_run_folder(tmp_path / "failed", manifest, summary))

    assert '<h1><span class="status requirements_not_met">Requirements not met</span>' in page
    assert "<dt>Error</dt><dd>RequirementsNotMet</dd>" in page
    assert (
        "<dt>Cause</dt><dd>No image met the requirement: 5 image(s) made. Best: score 4/10 &lt;r00-a02-c1.png&gt;.</dd>"
        in page
    )


def test_a_run_that_ended_outside_its_record_shows_failed_with_the_manifests_failure() -> None:
    manifest = _manifest() | {"status": "running", "winner": None, "finished_at": None}
    page = render_report(manifest, {}, {"status": "FAILED", "error": "StorageError", "cause": "PutObject: denied"})

    assert '<span class="status failed">Failed</span>' in page
    assert "<dt>Error</dt><dd>StorageError</dd><dt>Cause</dt><dd>PutObject: denied</dd>" in page
    recorded = _manifest() | {"status": "failed", "failure": {"error": "ModelUnavailable", "message": "retired"}}
    assert "<dt>Error</dt><dd>ModelUnavailable</dd><dt>Cause</dt><dd>retired</dd>" in render_report(recorded, {})


def _chromium(profile: Path) -> webdriver.Chrome:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.fail(
            "the browser test needs chromium and chromedriver on the PATH; `make test` installs Debian's "
            "(apt-get install chromium chromium-driver) when it runs as root or with sudo"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,900",
    ):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))


@pytest.mark.browser
def test_report_of_a_real_local_run_renders_in_chromium(runner: Callable[..., Any], tmp_path: Path) -> None:
    event = {"prompt": TRICKY, "max_retry_attempts": 2, "max_prompt_revisions": 1, "candidates": 2}
    result = runner(reject_first=3, fail_generate_first=1).run(event, "report-browser", tmp_path / "out")
    assert result.status == "SUCCEEDED"
    run_dir = tmp_path / "out" / "report-browser"
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    expected = sorted(e["key"].rsplit("/", 1)[1] for e in manifest["entries"] if e["outcome"] == "image")
    assert len(expected) == 5 and any(e["outcome"] == "refused" for e in manifest["entries"])
    page = tmp_path / "report.html"
    page.write_text(report_from_local_run(run_dir), encoding="utf-8")

    driver = _chromium(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        rendered = driver.execute_script(
            "return Array.from(document.images, i => [i.alt, i.complete ? i.naturalWidth : 0]);"
        )
        title = driver.title
        winners = driver.execute_script("return Array.from(document.querySelectorAll('figure.winner'), f => f.id);")
        # A click shows a picture full size, over the page; another click puts it back.
        picture = driver.find_element(By.CSS_SELECTOR, "figure.winner img")
        small = picture.size["width"]
        picture.click()
        enlarged = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.width, r.height, window.innerHeight];", picture
        )
        picture.click()
        put_back = picture.size["width"]
        width, height = driver.execute_script(
            "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight];"
        )
        # The whole page in one picture: a viewport as large as the document.
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        screenshot = tmp_path / "report.png"
        assert driver.save_screenshot(str(screenshot))
        logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
        severe = [e for e in logs if e["level"] == "SEVERE"]
    finally:
        driver.quit()

    print(f"screenshot: {screenshot}")
    assert severe == []
    assert sorted(name for name, _ in rendered) == expected
    assert all(width > 0 for _, width in rendered), rendered
    assert title == f"Succeeded: {TRICKY} - imgloop report"
    assert winners == [manifest["winner"]["key"].rsplit("/", 1)[1]]
    assert enlarged[0] > 2 * small and enlarged[1] >= 0.9 * enlarged[2] and put_back == small
    assert screenshot.is_file() and screenshot.read_bytes()[:8] == PNG


def test_a_retired_model_replaced_by_its_successor_is_shown_in_the_header() -> None:
    manifest = _manifest()
    manifest["substitutions"] = [
        {
            "section": "generator",
            "retired": "stability.stable-diffusion-xl-v1",
            "successor": "stability.sd3-5-large-v1:0",
            "note": "1024x1024 became aspect_ratio 1:1",
        }
    ]
    page = render_report(manifest, _images(manifest))

    assert (
        "generator: stability.stable-diffusion-xl-v1 is retired on Bedrock; stability.sd3-5-large-v1:0 ran instead "
        "(1024x1024 became aspect_ratio 1:1)" in page
    )


def _edit_manifest(mode: str, **fields: Any) -> dict[str, Any]:
    manifest = _manifest()
    source = {"bucket": "stack-bucket", "key": "uploads/edit-run/source-0123456789ab.png"}
    manifest["request"] |= {"mode": mode, "source_image": source, "mask_image": None, **fields}
    return manifest


def _source_picture(page: str) -> Image.Image:
    [source] = [i for i in _parse(page).images if i["alt"] == "source"]
    assert source["src"].startswith("data:image/png;base64,")
    return Image.open(io.BytesIO(base64.b64decode(source["src"].split(",", 1)[1]))).convert("RGB")


def _grey(size: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (128, 128, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def test_an_edit_shows_its_source_with_the_mask_outlined_in_red_beside_the_attempts() -> None:
    mask = Image.new("L", (200, 100), 0)
    mask.paste(255, (50, 25, 150, 75))
    buffer = io.BytesIO()
    mask.save(buffer, "PNG")
    manifest = _edit_manifest("inpaint", mask_image={"bucket": "stack-bucket", "key": "uploads/edit-run/mask.png"})
    images = _images(manifest) | {"source.png": _grey((200, 100)), "mask.png": buffer.getvalue()}

    page = render_report(manifest, images)

    aside = page.split("<aside class='source'>", 1)[1].split("</aside>", 1)[0]
    assert "<span class='tag source'>SOURCE</span>" in aside
    assert "mode: inpaint" in aside and "source: s3://stack-bucket/uploads/edit-run/source-0123456789ab.png" in aside
    assert "mask (outlined): s3://stack-bucket/uploads/edit-run/mask.png" in aside
    assert page.index("<aside class='source'>") < page.index("<table class='grid'>")  # the attempts beside it
    picture = _source_picture(page)
    assert picture.size == (200, 100)
    red = (230, 30, 30)
    assert picture.getpixel((50, 50)) == red and picture.getpixel((100, 25)) == red  # on the mask's edge
    assert picture.getpixel((100, 50)) == (128, 128, 128) == picture.getpixel((10, 10))  # inside, outside


def test_an_outpaint_shows_the_canvas_the_source_grows_to() -> None:
    margins = {"left": 100, "right": 0, "up": 0, "down": 50}
    manifest = _edit_manifest("outpaint", outpaint=margins)

    page = render_report(manifest, _images(manifest) | {"source.png": _grey((200, 100))})

    assert "outpaint: left 100 px, down 50 px" in page
    picture = _source_picture(page)
    assert picture.size == (300, 150)
    assert picture.getpixel((150, 50)) == (128, 128, 128)  # the source, where it will stay
    assert picture.getpixel((20, 20)) == picture.getpixel((150, 140)) == (228, 231, 235)  # the margins


def test_an_edit_whose_source_was_not_fetched_names_it_instead() -> None:
    manifest = _edit_manifest("image-to-image", strength=0.5)

    page = render_report(manifest, _images(manifest))

    aside = page.split("<aside class='source'>", 1)[1].split("</aside>", 1)[0]
    assert "<div class='placeholder'>Source not fetched</div>" in aside and "<img" not in aside
    assert "strength: 0.5" in aside and "uploads expire" in aside


def test_a_picture_drawn_from_text_has_no_source_panel() -> None:
    manifest = _manifest()

    assert "<aside" not in render_report(manifest, _images(manifest))


@pytest.mark.browser
def test_report_of_a_local_edit_renders_the_source_beside_the_attempts_in_chromium(
    runner: Callable[..., Any], tmp_path: Path
) -> None:
    from imgloop.runs.uploads import Upload, naming
    from tests.conftest import EVENTS

    images = {"source_image": "lake.png", "mask_image": "lake_sheep_mask.png"}
    uploads = [
        Upload(field, f"uploads/edit/{name}", (EVENTS / name).read_bytes(), "image/png")
        for field, name in images.items()
    ]
    event = naming(
        {"prompt": "add a sheep", "mode": "inpaint", "max_retry_attempts": 2}, "imgloop-local-images", uploads
    )
    result = runner(reject_first=1).run(event, "report-edit", tmp_path / "out", uploads=uploads)
    assert result.status == "SUCCEEDED"
    page = tmp_path / "report.html"
    page.write_text(report_from_local_run(tmp_path / "out" / "report-edit"), encoding="utf-8")

    driver = _chromium(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        rendered = driver.execute_script(
            "return Array.from(document.images, i => [i.alt, i.complete ? i.naturalWidth : 0]);"
        )
        source, grid = driver.execute_script(
            "return [document.querySelector('aside.source').getBoundingClientRect().toJSON(),"
            " document.querySelector('table.grid').getBoundingClientRect().toJSON()];"
        )
        logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    finally:
        driver.quit()

    assert [e for e in logs if e["level"] == "SEVERE"] == []
    assert rendered == [["source", 768], ["r00-a01.png", 768], ["r00-a02.png", 768]]
    assert source["right"] <= grid["left"] and source["top"] == grid["top"]  # side by side, at the top

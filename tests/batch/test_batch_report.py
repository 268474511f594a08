"""The batch report: one tile per item, its text escaped, its pictures and links relative to the folder it lives
in; checked as text and, for a real local batch, in headless Chromium."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from common.batches import BatchCounts, ItemRecord
from imgloop.batch.folder import FetchedBatch
from imgloop.batch.outcome import BatchOutcome
from imgloop.batch.report import render_batch_report
from imgloop.cli import main
from imgloop.runs.executions import Execution
from tests.batch.pages import tiles
from tests.report.test_report import TRICKY, TRICKY_ESCAPED, _chromium

URI = "s3://bucket/generated-images"


def _record(index: int, id_: str, **fields: Any) -> ItemRecord:
    values: dict[str, Any] = {
        "index": index,
        "line": index + 1,
        "id": id_,
        "status": "SUCCEEDED",
        "run": f"b-{id_}",
        "execution": "b",
        "images": 1,
        "winner": f"{URI}/b-{id_}/r00-a01.png",
        "score": 9,
        "prompt": TRICKY,
        "manifest": f"{URI}/b-{id_}/manifest.json",
    }
    return ItemRecord.model_validate(values | fields)


def _outcome(folder: Path, items: list[ItemRecord]) -> BatchOutcome:
    execution = Execution(
        "b", "arn:aws:states:us-west-2:1:execution:ImageLoop-batches:b", "SUCCEEDED", {}, None, None, []
    )
    counts = BatchCounts(items=3, succeeded=1, failed=1, skipped=1, images=2)
    fetched = FetchedBatch(folder, items, folder / "manifest.jsonl")
    return BatchOutcome("b", execution, counts, "3 item(s): <1> succeeded", {"RequirementsNotMet": 1}, fetched)


def _folder(tmp_path: Path) -> tuple[Path, list[ItemRecord]]:
    items = [
        _record(0, "won"),
        _record(1, "best", status="FAILED", winner=None, best=f"{URI}/b-best/r00-a02.png", score=4,
                error="RequirementsNotMet", cause="no image met <it>"),
        _record(2, "old", skipped=True),
    ]  # fmt: skip
    for item, picture in zip(items, ["r00-a01.png", "r00-a02.png", "r00-a01.png"], strict=True):
        run = tmp_path / "items" / item.id
        run.mkdir(parents=True)
        (run / picture).write_bytes(b"\x89PNG")
        (run / "report.html").write_text("item")
    return tmp_path, items


def test_a_tile_per_item_with_its_status_picture_and_report(tmp_path: Path) -> None:
    folder, items = _folder(tmp_path)
    page = render_batch_report(_outcome(folder, items))

    found = tiles(page)
    # Failed items first, each group in the input's order.
    assert [(t.id, t.status, t.picture) for t in found] == [
        ("best", "failed", "items/best/r00-a02.png"),
        ("won", "succeeded", "items/won/r00-a01.png"),
        ("old", "skipped", "items/old/r00-a01.png"),
    ]
    assert all(set(t.links) == {f"items/{t.id}/report.html"} for t in found)
    best = page.split("id='item-best'", 1)[1].split("</li>", 1)[0]
    assert "BEST SO FAR" in best and "4/10" in best and "<b>RequirementsNotMet</b>: no image met &lt;it&gt;" in best
    assert "SKIPPED (succeeded before)" in page
    assert "<dt>Failed by error</dt><dd>RequirementsNotMet x1</dd>" in page
    # The counts filter the items; the table view has a row per item, in the tiles' order.
    shown = re.findall(r"<label for='(show-\w+|as-table)'>([^<]*)</label>", page)
    assert shown == [
        ("show-all", "3 all"),
        ("show-succeeded", "1 succeeded"),
        ("show-failed", "1 failed"),
        ("show-skipped", "1 skipped"),
        ("as-table", "table view"),
    ]
    assert re.findall(r"<tr class='item (\w+)'><td>(\w+)</td>", page) == [
        ("failed", "best"),
        ("succeeded", "won"),
        ("skipped", "old"),
    ]
    assert '<span class="status failed">1 item(s) failed</span>Batch b' in page


def test_text_is_escaped_and_every_picture_and_link_is_a_file_beside_the_page(tmp_path: Path) -> None:
    folder, items = _folder(tmp_path)
    (folder / "items" / "old" / "report.html").unlink()  # an item whose run was not fetched
    page = render_batch_report(_outcome(folder, items))

    assert TRICKY not in page and page.count(TRICKY_ESCAPED) == 6  # each prompt in its tile and its table row
    assert "3 item(s): &lt;1&gt; succeeded" in page
    assert "<script" not in page and "<link" not in page and "@import" not in page and "url(" not in page
    references = re.findall(r"""(?:src|href)=['"]([^'"]*)['"]""", page)
    assert len(references) == 7  # three pictures; the tile and the table row each link the two reports fetched
    for reference in references:
        assert not re.match(r"[a-z]+:|/", reference) and ".." not in reference
        assert (folder / reference).is_file()


@pytest.mark.browser
def test_the_report_of_a_real_batch_renders_in_chromium(assembly: Path, tmp_path: Path) -> None:
    lines = [json.dumps({"prompt": TRICKY}), "{not json", json.dumps({"id": "lake", "prompt": "a calm lake"})]
    items = tmp_path / "items.jsonl"
    items.write_text("\n".join(lines) + "\n", encoding="utf-8")
    defaults = tmp_path / "defaults.json"
    defaults.write_text(json.dumps({"max_retry_attempts": 1, "max_prompt_revisions": 0}))
    argv = ["batch", "--local", "--input", str(items), "--defaults", str(defaults), "--name", "seen"]
    # One image is rejected: with one attempt per item, exactly one item that ran fails, its best image shown.
    code = main([*argv, "--reject-first", "1", "--assembly", str(assembly), "--out", str(tmp_path), "--json"])
    assert code == 1
    page = tmp_path / "seen" / "report.html"

    driver = _chromium(tmp_path / "chromium-profile")
    try:
        driver.get(page.as_uri())
        title = driver.title
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('li.tile'), t => [t.id, t.className, t.offsetHeight > 0]);"
        )
        driver.execute_script("window.scrollTo(0, document.body.scrollHeight);")
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete);")
        )
        pictures = driver.execute_script("return Array.from(document.images, i => [i.alt, i.naturalWidth]);")
        links = driver.execute_script("return Array.from(document.querySelectorAll('a.item-report'), a => a.href);")
        # A click on a count shows only those items; a click on a picture shows it full size, another puts it back.
        driver.find_element(By.CSS_SELECTOR, "label[for=show-succeeded]").click()
        filtered = driver.execute_script(
            "return Array.from(document.querySelectorAll('li.tile'), t => [t.id, t.offsetHeight > 0]);"
        )
        driver.find_element(By.CSS_SELECTOR, "label[for=show-all]").click()
        picture = driver.find_element(By.CSS_SELECTOR, "li.tile img")
        small = picture.size["width"]
        picture.click()
        enlarged = picture.size["width"]
        picture.click()
        put_back = picture.size["width"]
        driver.find_element(By.CSS_SELECTOR, "label[for=as-table]").click()
        table = driver.execute_script(
            "return [document.querySelector('ol.tiles').offsetHeight, document.querySelectorAll('tr.item').length];"
        )
        reports = []
        for link in links:
            driver.get(link)
            WebDriverWait(driver, 30).until(
                lambda d: d.execute_script("return Array.from(document.images).every(i => i.complete);")
            )
            reports.append(
                (driver.title, driver.execute_script("return Array.from(document.images, i => i.naturalWidth);"))
            )
        logs: list[dict[str, Any]] = driver.get_log("browser")  # type: ignore[no-untyped-call]
    finally:
        driver.quit()

    assert title == "2 item(s) failed: batch seen - imgloop batch report"
    assert sorted(tile_id for tile_id, _, _ in shown) == ["item-00001", "item-00002", "item-lake"]
    assert all(visible for _, _, visible in shown)
    assert [c.split()[2] for _, c, _ in shown] == ["failed", "failed", "succeeded"]  # failed items first
    assert [tile_id for tile_id, visible in filtered if visible] == [shown[2][0]]
    assert enlarged > 2 * small and put_back == small
    assert table == [0, 3]
    assert sorted(alt for alt, _ in pictures) == ["item 00001", "item lake"] and all(w > 0 for _, w in pictures)
    assert sorted(link.rsplit("/", 3)[-3:] for link in links) == [
        ["items", "00001", "report.html"],
        ["items", "lake", "report.html"],
    ]
    assert sorted(title.split(":")[0] for title, _ in reports) == ["Requirements not met", "Succeeded"]
    assert all(widths and all(w > 0 for w in widths) for _, widths in reports)
    assert [e for e in logs if e["level"] == "SEVERE"] == []

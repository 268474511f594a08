"""Editing, run locally: one execution per mode on the synthesized state machine, the source and mask
uploaded into the local account's bucket, each family's request body as Bedrock gets it, the manifest,
and the result's pixels; S5's three examples; each rejected input as a user meets it on the command
line; and a spilled edit caught by Validate's outside-mask guard."""

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

from imgloop.cli import main
from imgloop.runs.uploads import Upload, naming
from tests.conftest import EVENTS, load_event
from tests.statemachine.helpers import exits, keys, manifest

BUCKET = "imgloop-local-images"
SD35 = "stability.sd3-5-large-v1:0"
INPAINT = "us.stability.stable-image-inpaint-v1:0"
LAKE = (EVENTS / "lake.png").read_bytes()  # 768x512
SHEEP_MASK = (EVENTS / "lake_sheep_mask.png").read_bytes()  # white where the sheep goes
BOAT_MASK = (EVENTS / "lake_boat_mask.png").read_bytes()  # white over the boat
# S5's variation, as its write-up gives it.
S5_NEGATIVE = "dull colors, lack of sunset details, unrealistic sky gradients, poorly rendered reflections"


def _uploads(name: str, source: bytes = LAKE, mask: bytes | None = None) -> list[Upload]:
    images = [Upload("source_image", f"uploads/{name}/source.png", source, "image/png")]
    if mask is not None:
        images.append(Upload("mask_image", f"uploads/{name}/mask.png", mask, "image/png"))
    return images


def _run(runner: Any, event: dict[str, Any], name: str, mask: bytes | None = None, **scenario: Any) -> Any:
    """One local execution of an edit of the lake picture; returns the runner (its stand-in saw the calls)
    and the result."""
    run = runner(**scenario)
    uploads = _uploads(name, mask=mask)
    result = run.run(naming(event, BUCKET, uploads), name, uploads=uploads)
    return run, result


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data)).convert("RGB")


def _result(s3: Any, result: Any) -> Image.Image:
    return _image(s3.get_object(Bucket=BUCKET, Key=result.output["key"])["Body"].read())


def _change(before: Image.Image, after: Image.Image, where: Image.Image | None = None) -> float:
    """Mean absolute pixel difference, 0 to 1, over the whole picture or where `where` is white."""
    difference = ImageChops.difference(before, after).convert("L")
    return float(ImageStat.Stat(difference, mask=where).mean[0]) / 255


def _white(mask: bytes) -> Image.Image:
    return Image.open(io.BytesIO(mask)).convert("L").point(lambda v: 255 if v >= 128 else 0)


def _black(mask: bytes) -> Image.Image:
    return Image.open(io.BytesIO(mask)).convert("L").point(lambda v: 0 if v >= 128 else 255)


def _body(run: Any) -> dict[str, Any]:
    """The first image request, its images named by what they hold."""
    [first, *_] = run.standin.calls_of("InvokeModel")
    names = {base64.b64encode(LAKE).decode(): "<source>"}
    names |= {base64.b64encode(m).decode(): "<mask>" for m in (SHEEP_MASK, BOAT_MASK)}
    return {k: names.get(v, v) if isinstance(v, str) else v for k, v in first.body.items()}


def test_image_to_image_sends_the_source_and_strength_to_sd35_and_gets_a_changed_picture(runner: Any, s3: Any) -> None:
    event = {"prompt": "the lake in autumn colours", "mode": "image-to-image", "max_retry_attempts": 1}
    run, result = _run(runner, event, "edit-i2i")

    assert result.status == "SUCCEEDED"
    body = _body(run)
    assert run.standin.calls_of("InvokeModel")[0].model_id == SD35
    assert 1 <= body.pop("seed") <= 4294967295
    assert body == {
        "prompt": "the lake in autumn colours",
        "mode": "image-to-image",
        "image": "<source>",
        "strength": 0.5,  # the default, spelled out in the request
        "output_format": "png",
    }
    request = manifest(s3, result)["request"]
    assert request["mode"] == "image-to-image" and request["strength"] == 0.5
    assert request["source_image"] == {"bucket": BUCKET, "key": "uploads/edit-i2i/source.png"}
    assert request["mask_image"] is None
    picture = _result(s3, result)
    assert picture.size == (768, 512)  # the source's, not an aspect ratio's
    assert _change(_image(LAKE), picture) > 0.05


def test_more_strength_changes_more_of_the_source(runner: Any, s3: Any) -> None:
    changes = []
    for strength in (0.2, 0.8):
        event = {"prompt": "the lake in autumn colours", "mode": "image-to-image", "strength": strength}
        event |= {"max_retry_attempts": 1, "generator": {"seed": 7}}
        _, result = _run(runner, event, f"edit-strength-{int(strength * 10)}")
        changes.append(_change(_image(LAKE), _result(s3, result)))

    assert 0 < changes[0] < changes[1]
    assert changes[1] == pytest.approx(4 * changes[0], rel=0.05)  # a blend: the change grows with strength


def test_a_revision_of_an_image_to_image_edit_may_move_the_strength_within_one_step(runner: Any, s3: Any) -> None:
    event = {"prompt": "the lake in autumn colours", "mode": "image-to-image", "max_retry_attempts": 1}
    run, result = _run(runner, event | {"max_prompt_revisions": 1}, "edit-revised", reject_first=1)

    assert result.status == "SUCCEEDED"
    assert [c.body["strength"] for c in run.standin.calls_of("InvokeModel")] == [0.5, 0.8]
    [revised] = exits(result, "Use the revised prompt")
    assert revised["loop"]["strength"] == 0.8
    # The reviser asked for 0.9; one revision may move strength by 0.3 at most.
    [proposal] = exits(result, "Revise prompt")
    assert proposal["proposal"]["note"] == "strength 0.5 -> 0.8 (asked 0.9, bounded): the change is too faint"
    # Each attempt's entry records the strength it ran at.
    assert [e["strength"] for e in manifest(s3, result)["entries"]] == [0.5, 0.8]


def test_s5_add_a_sheep_runs_on_stable_image_inpaint_which_changes_only_the_mask(runner: Any, s3: Any) -> None:
    run, result = _run(runner, load_event("s5_add_sheep.json"), "edit-sheep", mask=SHEEP_MASK)

    assert result.status == "SUCCEEDED"
    [call] = run.standin.calls_of("InvokeModel")
    assert call.model_id == INPAINT
    assert _body(run) == {
        "image": "<source>",
        "seed": 321,
        "output_format": "png",
        "prompt": "add a sheep",
        "mask": "<mask>",
    }
    record = manifest(s3, result)
    [substitution] = record["substitutions"]
    assert substitution["retired"] == "stability.stable-diffusion-xl-v1" and substitution["successor"] == INPAINT
    assert "cfg_scale, steps dropped" in substitution["note"]
    assert record["request"]["mask_image"] == {"bucket": BUCKET, "key": "uploads/edit-sheep/mask.png"}
    picture = _result(s3, result)
    assert _change(_image(LAKE), picture, where=_black(SHEEP_MASK)) == 0
    assert _change(_image(LAKE), picture, where=_white(SHEEP_MASK)) > 0.1
    # The judge saw the source, the mask and the result, in that order, and measured nothing outside the mask.
    [judge] = run.standin.calls_of("Converse")
    content = judge.body["messages"][0]["content"]
    labels = [block.get("text") for block in content if "text" in block][:3]
    assert labels == ["Source image:", "Mask (white = the region that was to change):", "Result:"]
    images = [block["image"]["source"]["bytes"] for block in content if "image" in block]
    assert images[:2] == [base64.b64encode(LAKE).decode(), base64.b64encode(SHEEP_MASK).decode()]
    assert record["entries"][0]["verdict"]["judged_by"] == "us.anthropic.claude-sonnet-4-6"


def test_the_s5_events_hold_s5s_own_settings() -> None:
    variation, sheep = load_event("s5_variation.json"), load_event("s5_add_sheep.json")

    assert variation["prompt"] == "add vibrant hues to the sky, enhance reflections on the water"
    assert variation["negative_prompt"] == S5_NEGATIVE
    assert (variation["mode"], variation["sdxl_cfg_scale"], variation["sdxl_steps"]) == ("image-to-image", 30, 50)
    assert variation["sdxl_seed"] == 321
    assert (sheep["prompt"], sheep["mode"], sheep["sdxl_cfg_scale"]) == ("add a sheep", "inpaint", 10)


def test_s5_variation_runs_on_sd35_image_to_image_with_the_seed_kept(runner: Any, s3: Any) -> None:
    run, result = _run(runner, load_event("s5_variation.json"), "edit-variation")

    assert result.status == "SUCCEEDED"
    [call] = run.standin.calls_of("InvokeModel")
    assert call.model_id == SD35
    assert _body(run) == {
        "prompt": "add vibrant hues to the sky, enhance reflections on the water",
        "mode": "image-to-image",
        "image": "<source>",
        "strength": 0.5,
        "output_format": "png",
        "seed": 321,
        "negative_prompt": S5_NEGATIVE,
    }
    [substitution] = manifest(s3, result)["substitutions"]
    assert substitution["successor"] == SD35 and "cfg_scale, steps dropped" in substitution["note"]


def test_s5_text_to_image_runs_on_sd35_at_the_nearest_aspect_ratio(runner: Any, s3: Any) -> None:
    run = runner()
    result = run.run(load_event("s5_text_to_image.json"), "edit-s5-text")

    assert result.status == "SUCCEEDED"
    [call] = run.standin.calls_of("InvokeModel")
    assert call.model_id == SD35
    assert (call.body["mode"], call.body["aspect_ratio"], call.body["seed"]) == ("text-to-image", "16:9", 321)
    assert "image" not in call.body
    assert manifest(s3, result)["request"]["source_image"] is None
    assert _result(s3, result).size == (1344, 768)


def test_outpaint_grows_the_canvas_by_the_margins_around_the_untouched_source(runner: Any, s3: Any) -> None:
    run, result = _run(runner, load_event("edit_outpaint.json"), "edit-outpaint")

    assert result.status == "SUCCEEDED"
    assert run.standin.calls_of("InvokeModel")[0].model_id == "us.stability.stable-outpaint-v1:0"
    body = _body(run)
    assert {k: body[k] for k in ("image", "left", "right", "up", "down")} == {
        "image": "<source>",
        "left": 256,
        "right": 256,
        "up": 0,
        "down": 0,
    }
    assert manifest(s3, result)["request"]["outpaint"] == {"left": 256, "right": 256, "up": 0, "down": 0}
    picture = _result(s3, result)
    assert picture.size == (768 + 256 + 256, 512)
    assert _change(_image(LAKE), picture.crop((256, 0, 256 + 768, 512))) == 0


def test_search_replace_sends_what_to_find_and_changes_a_region_only(runner: Any, s3: Any) -> None:
    run, result = _run(runner, load_event("edit_search_replace.json"), "edit-search")

    assert result.status == "SUCCEEDED"
    assert run.standin.calls_of("InvokeModel")[0].model_id == "us.stability.stable-image-search-replace-v1:0"
    body = _body(run)
    assert (body["search_prompt"], body["prompt"]) == ("the red sailing boat", "a white swan swimming on the lake")
    assert "mask" not in body
    assert manifest(s3, result)["request"]["search_prompt"] == "the red sailing boat"
    # The stand-in cannot find the boat: it replaces the central third.
    picture, source = _result(s3, result), _image(LAKE)
    centre = (256, 171, 512, 341)
    assert _change(source.crop(centre), picture.crop(centre)) > 0.1
    assert _change(source.crop((0, 0, 768, 160)), picture.crop((0, 0, 768, 160))) == 0


def test_erase_fills_the_masked_object_from_its_surroundings(runner: Any, s3: Any) -> None:
    run, result = _run(runner, load_event("edit_erase.json"), "edit-erase", mask=BOAT_MASK)

    assert result.status == "SUCCEEDED"
    assert run.standin.calls_of("InvokeModel")[0].model_id == "us.stability.stable-image-erase-object-v1:0"
    body = _body(run)
    assert 1 <= body.pop("seed") <= 4294967294
    assert body == {"image": "<source>", "output_format": "png", "mask": "<mask>"}  # erase takes no prompt
    picture = _result(s3, result)
    assert _change(_image(LAKE), picture, where=_black(BOAT_MASK)) == 0
    # The red hull is gone: the region now takes the lake's colours.
    boat = picture.crop((240, 270, 360, 360))
    assert _red_pixels(_image(LAKE).crop((240, 270, 360, 360))) > 1000
    assert _red_pixels(boat) == 0
    lake_colour = ImageStat.Stat(_image(LAKE).crop((40, 300, 200, 360))).mean
    assert ImageStat.Stat(boat).mean == pytest.approx(lake_colour, abs=30)


def _red_pixels(picture: Image.Image) -> int:
    return sum(1 for r, g, _ in picture.get_flattened_data() if r > 150 and g < 80)  # type: ignore[misc]


def test_a_spilled_edit_fails_the_guard_with_its_number_and_the_judge_is_not_asked(
    runner: Any, s3: Any, tmp_path: Path
) -> None:
    event = {**load_event("s5_add_sheep.json"), "max_retry_attempts": 2, "max_prompt_revisions": 0}
    run, result = _run(runner, event, "edit-spill", mask=SHEEP_MASK, spill_edits=True)

    assert result.status == "FAILED" and result.error == "RequirementsNotMet"
    assert run.standin.calls_of("Converse") == []
    verdicts = [e["verdict"] for e in manifest(s3, result)["entries"]]
    assert len(verdicts) == 2
    for verdict in verdicts:
        assert verdict["passed"] is False and verdict["judged_by"] == "outside-mask guard"
        spill = verdict["outside_mask_change"]
        assert spill > 0.25  # every channel shifted by a quarter of full scale, or more
        assert verdict["reason"].startswith(
            f"the edit changed the image outside the mask: mean difference {spill:.1%} there (at most 4% is allowed)"
        )
    assert "outside the mask: mean difference" in str(result.cause)


def test_the_spill_shows_on_the_command_line(
    assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    budget = {"max_retry_attempts": 1, "max_prompt_revisions": 0}
    event.write_text(json.dumps({"prompt": "add a sheep", "mode": "inpaint", **budget}))
    images = ["--image", str(EVENTS / "lake.png"), "--mask", str(EVENTS / "lake_sheep_mask.png")]
    local = ["run", "--local", "--input", str(event), "--assembly", str(assembly), "--out", str(tmp_path / "out")]

    code = main([*local, *images, "--name", "spilled", "--spill-edits"])

    out = capsys.readouterr().out
    assert code == 1
    assert "Validate image     FAIL score 0/10: the edit changed the image outside the mask: mean difference" in out
    record = json.loads((tmp_path / "out" / "spilled" / "manifest.json").read_text())
    assert record["entries"][0]["verdict"]["outside_mask_change"] > 0.04


# Each input the input check refuses, as a user meets it: `imgloop run --local`, exit 1, InvalidInput
# naming the field, and nothing written but the execution's own summary (the uploads are the user's).
REJECTED: dict[str, tuple[dict[str, Any], list[str], str]] = {
    "no source": ({"mode": "image-to-image"}, [], "source_image: required by mode image-to-image"),
    "a source that cannot be read": (
        {"mode": "image-to-image", "source_image": f"s3://{BUCKET}/uploads/nobody/missing.png"},
        [],
        f"source_image: s3://{BUCKET}/uploads/nobody/missing.png cannot be read (NoSuchKey)",
    ),
    "a source that is not an image": (
        {"mode": "image-to-image", "source_image": f"s3://{BUCKET}/uploads/nobody/notes.txt"},
        [],
        f"source_image: s3://{BUCKET}/uploads/nobody/notes.txt is not a PNG, JPEG or WebP image",
    ),
    "a mask of another size": (
        {"mode": "inpaint"},
        ["--image", "lake.png", "--mask", "small_mask.png"],
        "mask_image: 384x256 must be the size of source_image (768x512)",
    ),
    "a mode the model does not offer": (
        {"mode": "inpaint", "generator": {"model_id": SD35}},
        ["--image", "lake.png", "--mask", "lake_sheep_mask.png"],
        f"generator.model_id: {SD35} does not offer mode inpaint; leave model_id out to use {INPAINT}",
    ),
    "a source in a bucket the stack may not read": (
        {"mode": "image-to-image", "source_image": "s3://someone-elses-bucket/photo.png"},
        [],
        "source_image: s3://someone-elses-bucket/ is not a bucket this stack may read",
    ),
    "a source too small for the model": (
        {"mode": "image-to-image"},
        ["--image", "tiny.png"],
        f"source_image: 48x48: every side must be at least 64 px for {SD35}",
    ),
}


@pytest.mark.parametrize("case", REJECTED)
def test_a_rejected_edit_names_the_field_and_writes_nothing(
    case: str, assembly: Path, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fields, options, message = REJECTED[case]
    files = {"lake.png": LAKE, "lake_sheep_mask.png": SHEEP_MASK, "tiny.png": _png((48, 48))}
    files["small_mask.png"] = _png((384, 256))
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    # An object that is in the bucket but is no image, as a user might have put there by mistake.
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket=BUCKET, Key="uploads/nobody/notes.txt", Body=b"not a picture")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "add a sheep", **fields}))
    local = ["run", "--local", "--input", str(event), "--assembly", str(assembly), "--out", str(tmp_path / "out")]
    options = [str(tmp_path / o) if o in files else o for o in options]

    code = main([*local, *options, "--name", "rejected", "--json"])

    result = json.loads(capsys.readouterr().out)
    assert code == 1
    assert (result["status"], result["error"]) == ("FAILED", "InvalidInput")
    assert result["cause"].startswith(message)
    assert [p.name for p in (tmp_path / "out" / "rejected").iterdir()] == ["execution.json"]
    assert [k for k in keys(s3, BUCKET) if not k.startswith("uploads/")] == []


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "white").save(out, format="PNG")
    return out.getvalue()


def test_an_inpaint_named_by_mask_prompt_alone_is_refused_with_the_way_forward(runner: Any) -> None:
    event = {"prompt": "add a sheep", "mode": "inpaint", "mask_prompt": "the meadow", "max_retry_attempts": 1}
    run, result = _run(runner, event, "edit-mask-prompt")

    assert result.error == "InvalidInput" and str(result.cause).startswith("mask_prompt: ")
    assert "search-replace and search_prompt" in str(result.cause)
    assert run.standin.calls_of("InvokeModel") == []

"""The `imgloop` command as a user runs it: live progress, one JSON object with --json, exit code 0 only on
success, and one line on stderr (exit 2) for whatever stops it before a run, never a traceback."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from imgloop.cli import main
from tests.conftest import EVENTS

IMGLOOP = Path(sys.executable).parent / "imgloop"


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
    assert sorted(p.name for p in folder.iterdir()) == [
        "execution.json",
        "manifest.json",
        "r00-a01.png",
        "r00-a02.png",
        "report.html",
    ]
    assert (folder / "r00-a02.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _run(assembly: Path, tmp_path: Path, event: Any, *options: str) -> int:
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
        monkeypatch.setattr("imgloop.aws.stack_outputs", lambda cloudformation, stack: {"StateMachineArn": machine})
        started = main(["start", "--input", str(event), "--name", "remote-1", "--wait", "--region", "us-west-2"])
        printed = capsys.readouterr().out
        worst, arn = printed.splitlines()[:2]
        fetched = main(["fetch", arn, "--out", str(tmp_path / "out"), "--region", "us-west-2"])
        reported = main(["report", arn, "--out", str(tmp_path / "report.html"), "--region", "us-west-2"])

    assert started == 0 and arn.endswith(":remote-1")
    assert worst == "worst case: $0.2576 for this run (all 2 image(s) of its budget); see `imgloop estimate`"
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
    monkeypatch.setattr("imgloop.local.assembly.synthesize", lambda: assembly)
    assert main(["start", "--local", "--input", str(event), "--name", "local-start"]) == 0
    assert "execution local-start: SUCCEEDED" in capsys.readouterr().out
    assert (tmp_path / "out" / "local-start" / "r00-a01.png").exists()


REJECTED = {
    "a missing prompt": ({"negative_prompt": "blur"}, "prompt"),
    "no attempts": ({"prompt": "a lighthouse", "max_retry_attempts": 0}, "max_retry_attempts"),
    "a JSON list": (["a lighthouse"], "request"),
    "an unknown field": ({"prompt": "a lighthouse", "colour": "red"}, "colour"),
    "an over-budget request": (
        {"prompt": "a lighthouse", "max_retry_attempts": 10, "max_prompt_revisions": 10, "candidates": 4},
        "120",
    ),
    "a bad aspect ratio": ({"prompt": "a lighthouse", "generator": {"aspect_ratio": "7:3"}}, "aspect_ratio"),
}


@pytest.mark.parametrize("case", REJECTED)
def test_a_rejected_input_ends_in_one_json_object_naming_the_field(
    case: str, assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event, field = REJECTED[case]
    code = _run(assembly, tmp_path, event, "--name", "rejected", "--json")

    out, err = capsys.readouterr()
    result = json.loads(out.strip().splitlines()[-1])
    assert code == 1
    assert result == {"status": "FAILED", "output": None, "error": "InvalidInput", "cause": result["cause"]}
    assert field in result["cause"]
    assert "Traceback" not in out + err
    assert [p.name for p in (tmp_path / "rejected").iterdir()] == ["execution.json"]  # no image, no manifest


def test_a_rejected_input_in_human_mode_prints_the_error_and_cause(assembly: Path, tmp_path: Path) -> None:
    """The installed command itself, in a process of its own: what a user types."""
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse", "max_retry_attempts": 0}))
    command = [str(IMGLOOP), "run", "--local", "--input", str(event), "--assembly", str(assembly)]
    done = subprocess.run(
        [*command, "--out", str(tmp_path / "out"), "--name", "rejected"], capture_output=True, text=True, timeout=300
    )

    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "Check input        input rejected: InvalidInput" in done.stdout
    assert "execution rejected: FAILED" in done.stdout
    assert "error: InvalidInput\ncause: max_retry_attempts: Input should be greater than or equal to 1" in done.stdout


def test_start_local_takes_the_options_of_run_local(
    assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse", "max_retry_attempts": 2, "max_prompt_revisions": 0}))
    local = ["start", "--local", "--input", str(event), "--assembly", str(assembly), "--out", str(tmp_path / "runs")]
    code = main([*local, "--name", "started", "--json", "--reject-first", "1"])

    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["status"] == "SUCCEEDED" and result["output"]["attempt"] == 2
    assert (tmp_path / "runs" / "started" / "r00-a02.png").is_file()


def test_local_only_options_are_refused_for_a_run_on_aws(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["start", "--input", "event.json", "--out", str(tmp_path), "--reject-first", "2"]) == 2
    assert (
        capsys.readouterr().err
        == "imgloop: --out, --reject-first: only with --local (a local run); AWS runs are fetched with `fetch`\n"
    )


def test_a_missing_assembly_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse"}))
    missing = tmp_path / "no-cdk.out"

    assert main(["run", "--local", "--input", str(event), "--assembly", str(missing), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"imgloop: --assembly {missing}: no synthesized ImageLoop stack there")
    assert "make synth" in err and "Traceback" not in err


def test_a_reused_name_is_refused_unless_replaced(
    assembly: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No `aws` fixture: each run gets an account of its own, as each `imgloop` process does.
    event = {"prompt": "a lighthouse", "max_retry_attempts": 2, "max_prompt_revisions": 0}
    assert _run(assembly, tmp_path, event, "--name", "again", "--json", "--reject-first", "1") == 0
    capsys.readouterr()

    assert _run(assembly, tmp_path, event, "--name", "again", "--json") == 2
    assert capsys.readouterr().err == (
        f"imgloop: {tmp_path / 'again'} holds an earlier run named again: choose another --name, or add --replace\n"
    )
    assert (tmp_path / "again" / "r00-a02.png").is_file()  # the earlier run is untouched

    assert _run(assembly, tmp_path, event, "--name", "again", "--json", "--replace") == 0
    assert sorted(p.name for p in (tmp_path / "again").iterdir()) == [
        "execution.json",
        "manifest.json",
        "r00-a01.png",
        "report.html",
    ]


def test_replace_leaves_a_folder_that_is_not_a_run_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")

    assert _run(tmp_path, tmp_path, {"prompt": "a lighthouse"}, "--name", "mine", "--replace") == 2
    assert "is not a run's folder" in capsys.readouterr().err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_a_name_that_could_leave_the_out_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        _run(tmp_path, tmp_path, {"prompt": "a lighthouse"}, "--name", "../elsewhere")

    assert exited.value.code == 2
    assert "--name: must be 1-80 letters, digits" in capsys.readouterr().err


def test_image_and_mask_are_uploaded_next_to_the_run_and_named_in_the_event(
    assembly: Path, s3: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib

    lake, mask = EVENTS / "lake.png", EVENTS / "lake_sheep_mask.png"
    local = ["run", "--local", "--input", str(EVENTS / "s5_add_sheep.json"), "--assembly", str(assembly)]
    code = main([*local, "--out", str(tmp_path), "--name", "sheep", "--image", str(lake), "--mask", str(mask)])

    assert code == 0
    assert "execution sheep: SUCCEEDED" in capsys.readouterr().out
    folder = tmp_path / "sheep"
    assert sorted(p.name for p in folder.iterdir()) == [
        "execution.json",
        "manifest.json",
        "mask.png",
        "r00-a01.png",
        "report.html",
        "source.png",
    ]
    assert (folder / "source.png").read_bytes() == lake.read_bytes()
    assert (folder / "mask.png").read_bytes() == mask.read_bytes()
    request = json.loads((folder / "manifest.json").read_text())["request"]
    digest = hashlib.sha256(lake.read_bytes()).hexdigest()[:12]
    assert request["source_image"] == {"bucket": "imgloop-local-images", "key": f"uploads/sheep/source-{digest}.png"}
    assert request["mask_image"]["key"].startswith("uploads/sheep/mask-")
    stored = s3.head_object(Bucket="imgloop-local-images", Key=request["source_image"]["key"])
    assert stored["ContentType"] == "image/png"


@pytest.mark.parametrize(
    ("event", "options", "message"),
    [
        (
            {"prompt": "x", "mode": "image-to-image"},
            ["--image", "missing.png"],
            "imgloop: --image TMP/missing.png: cannot read it: No such file or directory\n",
        ),
        (
            {"prompt": "x", "mode": "image-to-image"},
            ["--image", "event.json"],
            "imgloop: --image TMP/event.json: not a PNG, JPEG or WebP image\n",
        ),
        (
            {"prompt": "x", "mode": "inpaint", "mask_image": "s3://imgloop-local-images/uploads/m.png"},
            ["--image", "lake.png", "--mask", "lake.png"],
            "imgloop: --mask: the event already names mask_image; give the image one way only\n",
        ),
        (
            ["x"],
            ["--image", "lake.png"],
            "imgloop: --image: the event must be a JSON object, to name the image in its source_image\n",
        ),
    ],
    ids=["a missing file", "not an image", "the event names it already", "an event that is no object"],
)
def test_an_image_the_command_cannot_send_is_refused_before_anything_runs(
    event: Any, options: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "lake.png").write_bytes((EVENTS / "lake.png").read_bytes())
    options = [str(tmp_path / o) if o.endswith((".png", ".json")) else o for o in options]
    # No assembly and no AWS account: the command stops before it needs either.
    code = _run(tmp_path, tmp_path, event, "--name", "refused", *options)

    assert code == 2
    assert capsys.readouterr().err == message.replace("TMP", str(tmp_path))
    assert not (tmp_path / "refused").exists()


def test_start_uploads_the_image_to_the_stacks_bucket_and_fetch_brings_it_back(
    runner: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run = runner()
    outputs = {"BucketName": run.names.bucket}
    monkeypatch.setattr("imgloop.aws.stack_outputs", lambda cloudformation, stack: outputs)
    images = ["--image", str(EVENTS / "lake.png"), "--mask", str(EVENTS / "lake_boat_mask.png")]
    with run.session() as (_, machine):
        outputs["StateMachineArn"] = machine
        event = ["--input", str(EVENTS / "edit_erase.json"), "--name", "remote-erase", "--region", "us-west-2"]
        started = main(["start", *event, *images, "--wait"])
        arn = capsys.readouterr().out.splitlines()[1]  # after the worst case
        reported = main(["report", arn, "--out", str(tmp_path / "report.html"), "--region", "us-west-2"])

    assert started == 0 and reported == 0
    page = (tmp_path / "report.html").read_text()
    assert "<img src='data:image/png;base64," in page and "alt='source'" in page
    assert "mask (outlined): s3://imgloop-local-images/uploads/remote-erase/mask-" in page


def test_spill_edits_is_a_local_only_option(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["start", "--input", "event.json", "--spill-edits"]) == 2
    assert "--spill-edits: only with --local" in capsys.readouterr().err


def test_a_local_run_keeps_no_metrics_from_one_invocation_to_the_next(runner: Any) -> None:
    """Unpublished metrics would pile up over a long local run until Powertools published them mid-run,
    or, with no namespace set, failed the 100th image's Generate."""
    from common.observability import metrics

    result = runner(reject_first=1).run({"prompt": "a lighthouse", "max_retry_attempts": 2}, "metrics")

    assert result.status == "SUCCEEDED"
    assert metrics.metric_set == {}


ARN = "arn:aws:states:eu-central-1:123456789012:execution:ImageLoop:some-run"


@pytest.fixture
def no_aws_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine where nobody ran `aws configure`: no AWS_* variables, empty config files, no instance role."""
    import os

    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
        empty = tmp_path / name.lower()
        empty.write_text("")
        monkeypatch.setenv(name, str(empty))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


NO_REGION = "imgloop: no AWS region: pass --region (e.g. --region us-west-2), set AWS_REGION, or set a region"
NO_CREDENTIALS = "imgloop: no AWS credentials: run `aws configure`"
WITHOUT_AWS = {
    "start": (["start", "--input", "EVENT"], NO_REGION),
    "start --region": (["start", "--input", "EVENT", "--region", "us-west-2"], NO_CREDENTIALS),
    "watch": (["watch", ARN], NO_CREDENTIALS),
    "fetch": (["fetch", ARN, "--out", "OUT"], NO_CREDENTIALS),
    "report": (["report", ARN, "--out", "report.html"], NO_CREDENTIALS),
    "check-models": (["check-models"], NO_REGION),
    "check-models --region": (["check-models", "--region", "us-west-2"], NO_CREDENTIALS),
    "a region the ARN contradicts": (
        ["watch", ARN, "--region", "us-west-2"],
        "imgloop: --region us-west-2, but the execution's ARN is in eu-central-1",
    ),
    "not an ARN": (["fetch", "some-run"], "imgloop: not an execution ARN: 'some-run'"),
}


@pytest.mark.parametrize("case", WITHOUT_AWS)
def test_without_region_or_credentials_one_line_says_what_to_set(
    case: str, no_aws_setup: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse"}))
    argv, message = WITHOUT_AWS[case]
    argv = [a.replace("EVENT", str(event)).replace("OUT", str(tmp_path / "out")) for a in argv]

    code = main(argv)

    out, err = capsys.readouterr()
    assert code == 2
    assert out == "" and err.startswith(message) and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_aws_region_in_the_environment_is_the_region_as_the_message_says(
    no_aws_setup: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_REGION", "us-west-2")  # boto3 itself reads only AWS_DEFAULT_REGION

    assert main(["check-models"]) == 2
    assert capsys.readouterr().err.startswith(NO_CREDENTIALS)


def test_the_installed_command_says_what_is_missing_without_a_traceback(no_aws_setup: None) -> None:
    done = subprocess.run([str(IMGLOOP), "watch", ARN], capture_output=True, text=True, timeout=120)

    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(NO_CREDENTIALS) and "Traceback" not in done.stderr


def test_check_models_shows_no_node_banner_and_fails_when_bedrock_cannot_be_asked(no_aws_setup: None) -> None:
    import os

    environment = {k: v for k, v in os.environ.items() if not k.startswith("JSII_")}
    environment |= {
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_ENDPOINT_URL_BEDROCK": "http://127.0.0.1:9",  # nothing listens there
        "AWS_MAX_ATTEMPTS": "1",
    }
    command = [str(IMGLOOP), "check-models", "--region", "us-west-2"]
    done = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=300)

    assert done.returncode == 1
    assert [line.split()[0] for line in done.stdout.splitlines()] == ["UNKNOWN"] * 3
    assert done.stderr.startswith("nothing was checked: could not ask Bedrock: Could not connect")
    assert "b'" not in done.stderr and "node" not in done.stderr.lower()


def test_the_program_shows_progress_lines_only_and_the_functions_logs_with_verbose(
    assembly: Path, tmp_path: Path
) -> None:
    def run(*options: str) -> list[str]:
        command = [str(IMGLOOP), "run", "--local", "--input", str(EVENTS / "s1_example.json"), "--out", str(tmp_path)]
        done = subprocess.run(
            [*command, "--assembly", str(assembly), "--reject-first", "1", *options],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return (done.stdout + done.stderr).splitlines()

    quiet = run("--name", "quiet")
    verbose = run("--name", "loud", "--verbose")

    # The functions log JSON objects for CloudWatch; on a terminal they would break the progress lines.
    assert not [line for line in quiet if line.startswith('{"level"')]
    assert any("Validate image" in line for line in quiet)
    logs = [json.loads(line) for line in verbose if line.startswith('{"level"')]
    assert logs and {log["service"] for log in logs} == {"imgloop"}


def _out_cases(tmp_path: Path) -> dict[str, tuple[list[str], str]]:
    """Each place a verb writes, given wrong, and the line that refuses it before any work is done."""
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    a_folder = tmp_path / "folder"
    a_folder.mkdir()
    event = str(EVENTS / "s1_example.json")
    items = tmp_path / "items.txt"
    items.write_text("a fox\n")
    arn = "arn:aws:states:us-west-2:123456789012:execution:ImageLoop:x"
    return {
        "run --out a file": (
            ["run", "--local", "--input", event, "--out", str(a_file)],
            f"imgloop: --out {a_file}: is a file; give a folder\n",
        ),
        "start --local --out under a file": (
            ["start", "--local", "--input", event, "--out", str(a_file / "runs")],
            f"imgloop: --out {a_file / 'runs'}: {a_file} is a file, so no folder can be made under it; give a folder\n",
        ),
        "batch --out a file": (
            ["batch", "--local", "--input", str(items), "--out", str(a_file)],
            f"imgloop: --out {a_file}: is a file; give a folder\n",
        ),
        "batch-status --out a file": (
            ["batch-status", arn, "--out", str(a_file)],
            f"imgloop: --out {a_file}: is a file; give a folder\n",
        ),
        "fetch --out a file": (
            ["fetch", arn, "--out", str(a_file)],
            f"imgloop: --out {a_file}: is a file; give a folder\n",
        ),
        "report --out a folder": (
            ["report", "--local-run", str(a_folder), "--out", str(a_folder)],
            f"imgloop: --out {a_folder}: is a folder; give the file to write, such as {a_folder / 'report.html'}\n",
        ),
        "report --out under a file": (
            ["report", "--local-run", str(a_folder), "--out", str(a_file / "r.html")],
            f"imgloop: --out {a_file / 'r.html'}: {a_file} is a file; give a file in an existing folder\n",
        ),
        "report --out in a missing folder": (
            ["report", "--local-run", str(a_folder), "--out", str(tmp_path / "none" / "r.html")],
            f"imgloop: --out {tmp_path / 'none' / 'r.html'}: {tmp_path / 'none'} does not exist; give a file in an "
            "existing folder\n",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "run --out a file",
        "start --local --out under a file",
        "batch --out a file",
        "batch-status --out a file",
        "fetch --out a file",
        "report --out a folder",
        "report --out under a file",
        "report --out in a missing folder",
    ],
)
def test_where_a_verb_writes_is_checked_before_it_works(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv, message = _out_cases(tmp_path)[case]

    code = main(argv)

    out, err = capsys.readouterr()
    assert (code, out, err) == (2, "", message)
    assert (tmp_path / "taken.txt").read_text() == "mine"


def test_a_file_system_error_is_one_line_naming_the_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A run's folder that cannot be read: the report's reading of it fails in the file system.
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").mkdir()  # a folder where the manifest should be

    code = main(["report", "--local-run", str(run), "--out", str(tmp_path / "r.html")])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("imgloop: ") and str(run) in err


def test_a_local_run_says_where_its_files_are_and_writes_its_report(
    assembly: Path, aws: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An event saved by an editor that writes a byte-order mark.
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"prompt": "a lighthouse", "max_retry_attempts": 1}), encoding="utf-8-sig")
    local = ["run", "--local", "--input", str(event), "--assembly", str(assembly), "--out", str(tmp_path / "out")]

    code = main([*local, "--name", "on-disk"])

    out = capsys.readouterr().out
    folder = tmp_path / "out" / "on-disk"
    assert code == 0
    assert "console.aws" not in out and "_console_url" not in out
    assert f'"file": "{folder / "r00-a01.png"}"' in out
    assert f"report: {folder / 'report.html'}\n" in out
    assert (folder / "report.html").read_text(encoding="utf-8").count("<img") >= 1

    (folder / "report.html").unlink()
    assert main(["report", "--local-run", str(folder)]) == 0
    assert capsys.readouterr().out == f"report: {folder / 'report.html'}\n"
    assert (folder / "report.html").is_file()

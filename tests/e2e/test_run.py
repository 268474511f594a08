"""make e2e's control flow, with AWS replaced: what runs in which order, that the stack is always deleted
once deploying began, and that nothing is deployed without credentials or consent."""

from pathlib import Path
from typing import Any

import pytest

from common.request import read_request
from common.settings import Settings
from tests.e2e import run
from tests.e2e.run import Deployed, Plan


class Recorder:
    """The fake deployer and steps, writing what happened into one list."""

    def __init__(self, failing: str = "") -> None:
        self.calls: list[str] = []
        self._failing = failing

    def do(self, what: str) -> str:
        self.calls.append(what)
        if what == self._failing:
            raise RuntimeError(f"{what} broke")
        return "ok"

    def deploy(self, stack: str) -> dict[str, str]:
        self.do("deploy")
        return {"StateMachineArn": "arn:aws:states:us-west-2:1:stateMachine:m"}

    def destroy(self, stack: str) -> None:
        self.do("destroy")

    def step(self, name: str) -> run.Step:
        def act(deployed: Deployed) -> str:
            assert deployed.outputs["StateMachineArn"].endswith(":m")
            return self.do(name)

        return act


class Session:
    region_name = "us-west-2"


def plan(recorder: Recorder, confirm: bool = True, problems: tuple[str, ...] = ()) -> Plan:
    def asked(question: str) -> bool:
        recorder.calls.append("confirm")
        return confirm

    def preflight(session: Any, models: dict[str, str]) -> list[str]:
        assert set(models) == {"generator", "validator", "reviser", "edit"}
        recorder.calls.append("preflight")
        return list(problems)

    return Plan(
        session=lambda region: Session(),
        preflight=preflight,
        deployer=lambda session: recorder,
        steps=[(name, recorder.step(name)) for name, _ in run.STEPS],
        confirm=asked,
    )


STEPS = [name for name, _ in run.STEPS]


def test_the_steps_run_in_order_between_the_deploy_and_the_destroy(tmp_path: Path) -> None:
    recorder = Recorder()
    assert run.main(["--out", str(tmp_path)], plan(recorder)) == 0
    assert recorder.calls == ["preflight", "confirm", "deploy", *STEPS, "destroy"]
    assert STEPS == ["run", "edit", "batch", "api"]


def test_a_failed_step_fails_the_test_but_the_later_steps_and_the_destroy_still_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = Recorder(failing="edit")
    assert run.main(["--out", str(tmp_path), "--yes"], plan(recorder)) == 1
    assert recorder.calls == ["preflight", "deploy", *STEPS, "destroy"]
    table = capsys.readouterr().out
    assert "edit     FAIL  RuntimeError: edit broke" in table
    assert "destroy  PASS" in table


def test_a_failed_deploy_runs_no_step_and_is_still_destroyed(tmp_path: Path) -> None:
    recorder = Recorder(failing="deploy")
    assert run.main(["--out", str(tmp_path), "--yes"], plan(recorder)) == 1
    assert recorder.calls == ["preflight", "deploy", "destroy"]


def test_an_interrupt_mid_way_still_destroys_the_stack(tmp_path: Path) -> None:
    recorder = Recorder()
    interrupted = plan(recorder)

    def interrupt(deployed: Deployed) -> str:
        raise KeyboardInterrupt

    steps = [("run", interrupt), *interrupted.steps[1:]]
    with pytest.raises(KeyboardInterrupt):
        run.main(["--out", str(tmp_path), "--yes"], Plan(**{**vars(interrupted), "steps": steps}))
    assert recorder.calls == ["preflight", "deploy", "destroy"]


def test_yes_skips_the_question_and_a_no_deploys_nothing(tmp_path: Path) -> None:
    recorder = Recorder()
    run.main(["--out", str(tmp_path), "--yes"], plan(recorder))
    assert "confirm" not in recorder.calls
    declined = Recorder()
    assert run.main(["--out", str(tmp_path)], plan(declined, confirm=False)) == 2
    assert declined.calls == ["preflight", "confirm"]


def test_a_failed_preflight_deploys_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    recorder = Recorder()
    problem = "UNAVAILABLE generator x: Bedrock does not serve x here"
    assert run.main(["--out", str(tmp_path), "--yes"], plan(recorder, problems=(problem,))) == 2
    assert recorder.calls == ["preflight"]
    assert problem in capsys.readouterr().err


def test_missing_credentials_stop_before_anything_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    recorder = Recorder()
    # The real session maker, with the fakes behind it.
    without = Plan(**{**vars(plan(recorder)), "session": run.on_aws().session})
    assert run.main(["--out", str(tmp_path), "--yes", "--region", "us-west-2"], without) == 2
    assert recorder.calls == []
    assert "no AWS credentials" in capsys.readouterr().err


def test_each_run_makes_at_most_the_images_the_cost_counts(settings: Settings) -> None:
    edit = run.uploaded(run.EDIT, settings.output_bucket)
    for event, images in ((run.RUN, run.IMAGES["run"]), (edit, run.IMAGES["edit"])):
        assert read_request(event, settings).max_images() == images
    lines = run.BATCH_ITEMS.splitlines()
    assert len(lines) == run.IMAGES["batch"]
    assert all(read_request({"prompt": line, **run.CHEAP}, settings).max_images() == 1 for line in lines)
    assert run.worst_case_usd() < 1.0

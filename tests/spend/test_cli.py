"""`imgloop prices` and `imgloop estimate`."""

import json
from pathlib import Path
from typing import Any

from imgloop.cli import main

EVENTS = Path(__file__).resolve().parents[1] / "events"


def test_prices_prints_the_table_and_its_json(capsys: Any) -> None:
    assert main(["prices"]) == 0
    out = capsys.readouterr().out
    assert "us.anthropic.claude-sonnet-4-6" in out and "3.30" in out and "16.50" in out
    assert main(["prices", "--json"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert table["tokens"]["us.anthropic.claude-sonnet-4-6"]["confirmed"] is True


def test_estimate_of_a_run_and_of_a_batch(capsys: Any) -> None:
    assert main(["estimate", "--input", str(EVENTS / "small_budget.json"), "--json"]) == 0
    run = json.loads(capsys.readouterr().out)
    assert run["images_worst_case"] == 4 and run["pass_rate"] == 0.5
    assert 0 < run["expected_usd"] < run["worst_case_usd"]
    assert set(run["by_model"]) == {"stability.sd3-5-large-v1:0", "us.anthropic.claude-sonnet-4-6", "orchestration"}
    batch = ["estimate", "--batch", str(EVENTS / "s4_batch_titles.txt"), "--defaults"]
    assert main([*batch, str(EVENTS / "s4_batch_defaults.json"), "--json", "--pass-rate", "0.9"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["runs"] == 10 and figures["pass_rate"] == 0.9


def test_an_estimate_of_a_request_check_input_would_refuse_says_why(tmp_path: Path, capsys: Any) -> None:
    event = tmp_path / "bad.json"
    event.write_text(json.dumps({"prompt": "a fox", "candidates": 9}))
    assert main(["estimate", "--input", str(event)]) == 2
    assert "candidates: Input should be less than or equal to 4" in capsys.readouterr().err

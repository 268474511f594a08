"""Save: opening the run checks the request first; each image is filed once, with its metadata."""

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest

from common.errors import InvalidInput
from common.images import decode_metadata, encode_metadata
from common.manifest import Entry, Manifest, ManifestStore
from common.prices import to_usd
from common.results import Generated, Opened
from common.tasks import CloseNotMet, ExecutionStart, RecordTask
from imgloop.local import serial_s3
from save.closing import close_not_met
from save.logic import open_run, record_generation

EXECUTION = "arn:aws:states:us-west-2:123456789012:execution:ImageLoop:run-1"


def _started(name: str, at: str) -> ExecutionStart:
    return ExecutionStart(id=EXECUTION, name=name, started_at=at)


@pytest.fixture
def bucket(s3: Any, settings: Any) -> str:
    s3.create_bucket(Bucket=settings.output_bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    return str(settings.output_bucket)


def _keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_open_writes_the_manifest_with_the_normalized_request(s3: Any, settings: Any, bucket: str) -> None:
    task = open_run({"prompt": "a fox"}, _started("run-1", "2026-11-21T10:00:00Z"), settings, s3)

    assert task.run.manifest_key == "generated-images/run-1/manifest.json"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=task.run.manifest_key)["Body"].read())
    assert manifest["status"] == "running" and manifest["entries"] == []
    assert manifest["request"]["generator"]["aspect_ratio"] == "1:1"
    # A retried open finds its own manifest and carries on.
    again = open_run({"prompt": "a fox"}, _started("run-1", "2026-11-21T10:00:00Z"), settings, s3)
    assert again == task


def test_open_rejects_bad_input_before_writing_anything(s3: Any, settings: Any, bucket: str) -> None:
    with pytest.raises(InvalidInput):
        open_run({"prompt": "a fox", "max_retry_attempts": 0}, _started("run-1", "now"), settings, s3)
    with pytest.raises(InvalidInput, match="execution name"):
        open_run({"prompt": "a fox"}, _started("../../etc", "now"), settings, s3)
    assert _keys(s3, bucket) == []


def test_record_moves_the_image_to_its_key_keeping_its_metadata(s3: Any, settings: Any, bucket: str) -> None:
    prompt = "オーロラと月、人はいない"
    task = open_run({"prompt": prompt}, _started("run-1", "now"), settings, s3)
    staged = "_staging/generated-images/run-1/r00-a01.png"
    metadata = encode_metadata({"prompt": prompt, "seed": "9", "execution-id": EXECUTION})
    s3.put_object(Bucket=bucket, Key=staged, Body=b"png", ContentType="image/png", Metadata=metadata)
    generation = Generated(
        outcome="image", model_id="stability.sd3-5-large-v1:0", seed=9, staging_key=staged, content_type="image/png"
    )
    step = RecordTask(
        action="record", run=task.run, revision=0, attempt=1, prompt=prompt, negative_prompt="", generation=generation
    )

    record = record_generation(step, s3)
    record_generation(step, s3)  # a retried Save files nothing twice

    assert record.key == "generated-images/run-1/r00-a01.png"
    assert _keys(s3, bucket) == ["generated-images/run-1/manifest.json", "generated-images/run-1/r00-a01.png"]
    head = s3.head_object(Bucket=bucket, Key=record.key)
    assert decode_metadata(head["Metadata"])["prompt"] == prompt
    assert head["Metadata"]["seed"] == "9" and head["Metadata"]["execution-id"] == EXECUTION
    assert head["ContentType"] == "image/png"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key="generated-images/run-1/manifest.json")["Body"].read())
    [entry] = manifest["entries"]
    assert (entry["revision"], entry["attempt"], entry["key"], entry["seed"]) == (0, 1, record.key, 9)
    assert entry["prompt"] == prompt


def test_metadata_is_ascii_and_fits_s3s_limit_however_long_the_prompt() -> None:
    prompt = "長い要件、" * 300
    encoded = encode_metadata({"prompt": prompt, "negative-prompt": "x" * 3000, "seed": "1"})
    assert all(value.isascii() for value in encoded.values())
    assert sum(len(k) + len(v) for k, v in encoded.items()) <= 1500
    assert encoded["prompt"].endswith("...") and encoded["seed"] == "1"
    assert prompt.startswith(decode_metadata(encoded)["prompt"].removesuffix("..."))


def test_concurrent_writers_never_lose_an_entry(s3: Any, settings: Any, bucket: str) -> None:
    serial_s3.register(s3.meta.events)  # each request atomic, as in S3; the updates still race
    open_run({"prompt": "a fox"}, _started("run-1", "now"), settings, s3)
    store = ManifestStore(s3, bucket, "generated-images/run-1/manifest.json")

    def add(n: int) -> None:
        entry = Entry(revision=0, attempt=n, outcome="refused", prompt="p", negative_prompt="", model_id="m", seed=n)
        store.update(lambda m: m.put_entry(entry))

    threads = [threading.Thread(target=add, args=(n,)) for n in range(1, 9)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    manifest, _ = store.read()
    assert [e.attempt for e in manifest.entries] == list(range(1, 9))


def entry_adder(entry: Entry) -> Callable[[Manifest], None]:
    return lambda manifest: manifest.put_entry(entry)


def _not_met(opened: Opened, stopped_by: str, **loop: int) -> CloseNotMet:
    """Save's closing of an opened run whose budget or cap is used up; `loop`: the state machine's figures."""
    return CloseNotMet(
        action="requirements_not_met", run=opened.run, stopped_by=stopped_by, budget=opened.budget, **loop
    )


def test_not_met_points_at_the_best_image(s3: Any, settings: Any, bucket: str) -> None:
    from common.manifest import Verdict

    task = open_run({"prompt": "a fox"}, _started("run-1", "now"), settings, s3)
    store = ManifestStore(s3, bucket, task.run.manifest_key)
    for n, score in [(1, 3), (2, 7), (3, 5)]:
        verdict = Verdict(passed=False, score=score, reason=f"reason {n}", judged_by="j")
        entry = Entry(
            revision=0,
            attempt=n,
            outcome="image",
            prompt="p",
            negative_prompt="",
            model_id="m",
            seed=n,
            key=f"k{n}",
            verdict=verdict,
        )
        store.update(entry_adder(entry))
    refused = Entry(
        revision=0,
        attempt=4,
        outcome="refused",
        prompt="p",
        negative_prompt="",
        model_id="m",
        seed=4,
        refusal="filtered",
    )
    store.update(lambda m: m.put_entry(refused))

    cause = close_not_met(_not_met(task, "budget", spent_usd_micro=0, attempt=4, max_retry_attempts=4), s3).cause
    assert cause.startswith(
        "No image met the requirement. 3 image(s) made (3 judged) and 1 generation(s) refused over 1 prompt(s)."
    )
    best = f"Best: score 7/10, s3://{bucket}/k2 (revision 0, attempt 2): reason 2. Cost: $0.0000. Manifest: s3://"
    assert best in cause
    assert store.read()[0].status == "requirements_not_met"


def test_a_run_stopped_at_its_cap_names_the_cap_and_what_was_spent(s3: Any, settings: Any, bucket: str) -> None:
    opened = open_run({"prompt": "a fox", "max_cost_usd": 0.5}, _started("run-cap", "now"), settings, s3)
    assert opened.budget.cap_usd_micro == 500_000
    closing = _not_met(opened, "cap", spent_usd_micro=345_678, attempt=2, max_retry_attempts=3)
    cause = close_not_met(closing, s3).cause
    attempt, revision = to_usd(opened.budget.attempt_usd_micro), to_usd(opened.budget.revision_usd_micro)
    assert cause.startswith(
        f"Stopped at the spending cap (max_cost_usd $0.5000): $0.3457 spent, and the next attempt could cost up to "
        f"${attempt:.4f} more. No image met the requirement."
    )
    # With the prompt's attempts used up, what the cap stopped was a revised prompt, at its own ceiling.
    cause = close_not_met(closing.model_copy(update={"attempt": 3}), s3).cause
    assert f"spent, and a revised prompt and its attempt could cost up to ${revision:.4f} more." in cause
    assert revision > attempt


def test_a_cap_below_the_first_attempt_is_invalid_input_before_any_write(s3: Any, settings: Any) -> None:
    with pytest.raises(InvalidInput, match=r"max_cost_usd: \$0.0100 does not cover the first attempt"):
        open_run({"prompt": "a fox", "max_cost_usd": 0.01}, _started("run-low", "now"), settings, s3)

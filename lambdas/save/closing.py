"""Close a run: file what staging still holds, set the manifest's outcome, and say what happened."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from common.errors import InvalidInput
from common.images import StoredImage, file_staged_images, image_keys, stored_image
from common.manifest import Entry, Failure, Manifest, ManifestStore, Status, Winner, now
from common.payloads import Attempt, CandidateResult, Failed, NotMet, Success, Task
from common.settings import Settings

MAX_MESSAGE_CHARS = 1000


def console_urls(bucket: str, key: str, region: str) -> tuple[str, str]:
    base = "https://s3.console.aws.amazon.com/s3"
    return (
        f"{base}/buckets/{bucket}?region={region}&bucketType=general",
        f"{base}/object/{bucket}?region={region}&bucketType=general&prefix={quote(key, safe='')}",
    )


def close_succeeded(task: Attempt, candidates: list[CandidateResult], settings: Settings, s3: Any) -> Success:
    """Close the run with the best-scored passing candidate of the attempt as the winner."""
    passing = [c for c in candidates if c.passed and c.key]
    if not passing:
        raise InvalidInput("candidates: the run cannot succeed without a passing image")
    best = max(passing, key=lambda c: (c.score, -c.candidate))
    key = best.key or ""
    winner = Winner(revision=task.revision, attempt=task.attempt, candidate=best.candidate, key=key)
    manifest = _close(task, s3, lambda m: setattr(m, "winner", winner), "succeeded")
    bucket_url, object_url = console_urls(task.run.bucket, key, settings.region)
    images = sum(1 for e in manifest.entries if e.outcome == "image")
    return Success(
        message=f"Image accepted at revision {task.revision}, attempt {task.attempt}, after {images} image(s).",
        bucket=task.run.bucket,
        key=key,
        s3_uri=f"s3://{task.run.bucket}/{key}",
        bucket_console_url=bucket_url,
        object_console_url=object_url,
        prompt=task.prompt,
        negative_prompt=task.negative_prompt,
        revision=task.revision,
        attempt=task.attempt,
        reason=best.reason or "",
        images_generated=images,
        manifest_key=task.run.manifest_key,
    )


def close_not_met(task: Task, s3: Any) -> NotMet:
    manifest = _close(task, s3, lambda m: None, "requirements_not_met")
    return NotMet(cause=f"No image met the requirement: {summary(manifest, task)}")


def close_failed(task: Task, error: str, cause: str | None, s3: Any) -> Failed:
    """The run ended on an error after its retries: record it, keep every image, explain it briefly."""
    message = _message_of(cause)
    failure = Failure(error=error, message=message)
    manifest = _close(task, s3, lambda m: setattr(m, "failure", failure), "failed")
    return Failed(error=error, cause=f"{message} {summary(manifest, task)}")


def summary(manifest: Manifest, task: Task) -> str:
    images = [e for e in manifest.entries if e.outcome == "image"]
    judged = [e for e in images if e.verdict is not None]
    refused = len(manifest.entries) - len(images)
    prompts = len({e.revision for e in manifest.entries})
    text = (
        f"{len(images)} image(s) made ({len(judged)} judged) and {refused} generation(s) refused "
        f"over {prompts} prompt(s)."
    )
    if judged:
        best = max(judged, key=lambda e: (e.verdict.score if e.verdict else -1, -e.revision, -e.attempt, -e.candidate))
        assert best.verdict is not None
        of = f", candidate {best.candidate}" if best.candidate > 1 else ""
        text += (
            f" Best: score {best.verdict.score}/10, s3://{task.run.bucket}/{best.key} "
            f"(revision {best.revision}, attempt {best.attempt}{of}): {best.verdict.reason}"
        )
    return text + f" Manifest: s3://{task.run.bucket}/{task.run.manifest_key}"


def _close(task: Task, s3: Any, change: Callable[[Manifest], None], status: Status) -> Manifest:
    # Nothing generated is lost: images left in staging are filed, and any filed image the manifest
    # does not know (its Save failed between the move and the manifest write) gets an entry.
    store = ManifestStore(s3, task.run.bucket, task.run.manifest_key)
    file_staged_images(s3, task.run.bucket, task.run.folder)
    known = {entry.key for entry in store.read()[0].entries}
    unknown = [
        stored_image(s3, task.run.bucket, key)
        for key in image_keys(s3, task.run.bucket, f"{task.run.folder}/")
        if key not in known
    ]

    def finish(manifest: Manifest) -> None:
        for image in unknown:
            entry = _entry_of(image)
            if manifest.entry(entry.revision, entry.attempt, entry.candidate) is None:
                manifest.put_entry(entry)
        change(manifest)
        manifest.status = status
        manifest.finished_at = now()

    return store.update(finish)


def _entry_of(image: StoredImage) -> Entry:
    meta = image.metadata
    return Entry(
        revision=int(meta.get("revision", 0)),
        attempt=int(meta.get("attempt", 0)),
        candidate=int(meta.get("candidate", 1)),
        outcome="image",
        prompt=meta.get("prompt", ""),
        negative_prompt=meta.get("negative-prompt", ""),
        model_id=meta.get("model-id", ""),
        seed=int(meta.get("seed", 0)),
        key=image.key,
        note="recorded when the run closed: its Save step did not finish (prompt from the image's metadata)",
    )


def _message_of(cause: str | None) -> str:
    """The error message alone: a Lambda error's cause is JSON with a stack trace nobody should read here."""
    message = cause or "no cause given"
    try:
        parsed = json.loads(message)
        if isinstance(parsed, dict) and isinstance(parsed.get("errorMessage"), str):
            message = parsed["errorMessage"]
    except ValueError:
        pass
    return message if len(message) <= MAX_MESSAGE_CHARS else message[: MAX_MESSAGE_CHARS - 3] + "..."

"""Close a run: file what staging still holds, set the manifest's outcome, and say what happened."""

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aws_lambda_powertools.metrics import MetricUnit

from common.errors import InvalidInput, own_name
from common.images import StoredImage, file_staged_images, image_keys, stored_image
from common.manifest import Entry, Failure, Manifest, ManifestStore, Status, Winner, now
from common.names import MetricNames
from common.observability import metrics
from common.prices import to_usd
from common.results import Failed, NotMet, Run, Success
from common.settings import Settings
from common.spend import run_cost
from common.tasks import CloseNotMet, CloseSucceeded

MAX_MESSAGE_CHARS = 1000


def console_urls(bucket: str, key: str, region: str) -> tuple[str, str]:
    base = "https://s3.console.aws.amazon.com/s3"
    return (
        f"{base}/buckets/{bucket}?region={region}&bucketType=general",
        f"{base}/object/{bucket}?region={region}&bucketType=general&prefix={quote(key, safe='')}",
    )


def close_succeeded(task: CloseSucceeded, settings: Settings, s3: Any) -> Success:
    """Close the run with the attempt's best-scored passing image as the winner."""
    run = task.run
    chosen: list[Entry] = []

    def crown(manifest: Manifest) -> None:
        best = manifest.best(passed_only=True, revision=task.revision, attempt=task.attempt)
        if best is None or best.key is None or best.verdict is None:
            raise InvalidInput(f"revision {task.revision}, attempt {task.attempt}: no passing image to accept")
        manifest.winner = Winner(revision=best.revision, attempt=best.attempt, candidate=best.candidate, key=best.key)
        chosen.append(best)

    manifest = _close(run, s3, crown, "succeeded")
    attempts = len({(e.revision, e.attempt) for e in manifest.entries})
    metrics.add_metric(name=MetricNames.ATTEMPTS_TO_ACCEPTANCE, unit=MetricUnit.Count, value=attempts)
    best = chosen[-1]  # the manifest update may have run crown() more than once; the last one was written
    assert best.key is not None and best.verdict is not None  # crown() accepts nothing else
    bucket_url, object_url = console_urls(run.bucket, best.key, settings.region)
    images = sum(1 for e in manifest.entries if e.outcome == "image")
    return Success(
        message=f"Image accepted at revision {task.revision}, attempt {task.attempt}, after {images} image(s).",
        bucket=run.bucket,
        key=best.key,
        s3_uri=f"s3://{run.bucket}/{best.key}",
        bucket_console_url=bucket_url,
        object_console_url=object_url,
        prompt=best.prompt,
        negative_prompt=best.negative_prompt,
        revision=task.revision,
        attempt=task.attempt,
        reason=best.verdict.reason,
        images_generated=images,
        manifest_key=run.manifest_key,
        substitutions=[s.line for s in manifest.substitutions],
        cost=run_cost(manifest),
    )


def close_not_met(task: CloseNotMet, s3: Any) -> NotMet:
    manifest = _close(task.run, s3, lambda m: None, "requirements_not_met")
    cause = f"No image met the requirement. {summary(manifest, task.run)}"
    if task.stopped_by == "cap":
        # The state machine's figures: what its tasks reported, and the ceiling it compared with the cap.
        spent, budget = to_usd(task.spent_usd_micro), task.budget
        if task.attempt < task.max_retry_attempts:
            step, ceiling = "the next attempt", budget.attempt_usd_micro
        else:
            step, ceiling = "a revised prompt and its attempt", budget.revision_usd_micro
        cause = (
            f"Stopped at the spending cap (max_cost_usd ${to_usd(budget.cap_usd_micro):.4f}): ${spent:.4f} "
            f"spent, and {step} could cost up to ${to_usd(ceiling):.4f} more. {cause}"
        )
    return NotMet(cause=cause)


def close_failed(run: Run, error: str, cause: str | None, s3: Any) -> Failed:
    """The run ended on an error after its retries: record it, keep every image, explain it briefly."""
    message = _message_of(cause)
    named = own_name(error)
    if named != error:
        message = f"{error}: {message}"
    failure = Failure(error=named, message=message)
    manifest = _close(run, s3, lambda m: setattr(m, "failure", failure), "failed")
    return Failed(error=named, cause=f"{_sentence(message)} {summary(manifest, run)}")


def _sentence(text: str) -> str:
    """Ends the text as a sentence, so the next one does not run into it."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "。")) else f"{text}."


def summary(manifest: Manifest, run: Run) -> str:
    images = [e for e in manifest.entries if e.outcome == "image"]
    judged = [e for e in images if e.verdict is not None]
    refused = len(manifest.entries) - len(images)
    prompts = len({e.revision for e in manifest.entries})
    text = (
        f"{len(images)} image(s) made ({len(judged)} judged) and {refused} generation(s) refused "
        f"over {prompts} prompt(s)."
    )
    best = manifest.best()
    if best is not None and best.verdict is not None:
        of = f", candidate {best.candidate}" if best.candidate > 1 else ""
        text += (
            f" Best: score {best.verdict.score}/10, s3://{run.bucket}/{best.key} "
            f"(revision {best.revision}, attempt {best.attempt}{of}): {_sentence(best.verdict.reason)}"
        )
    return text + f" Cost: ${run_cost(manifest).total_usd:.4f}. Manifest: s3://{run.bucket}/{run.manifest_key}"


def _close(run: Run, s3: Any, change: Callable[[Manifest], None], status: Status) -> Manifest:
    # Nothing generated is lost: images left in staging are filed, and any filed image the manifest
    # does not know (its Save failed between the move and the manifest write) gets an entry.
    store = ManifestStore(s3, run.bucket, run.manifest_key)
    file_staged_images(s3, run.bucket, run.folder)
    known = {entry.key for entry in store.read()[0].entries}
    unknown = [
        stored_image(s3, run.bucket, key) for key in image_keys(s3, run.bucket, f"{run.folder}/") if key not in known
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

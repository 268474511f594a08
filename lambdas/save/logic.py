"""Keep the run's record: check the request and open the manifest, file each image, close the run."""

from typing import Any
from urllib.parse import quote

from botocore.exceptions import ClientError

from common.errors import InvalidInput
from common.keys import RunKeys
from common.manifest import Entry, Manifest, ManifestStore, Winner, now
from common.payloads import Attempt, CandidateAttempt, CandidateResult, Generation, NotMet, Record, Run, Success, Task
from common.request import parse_request
from common.settings import Settings

_METADATA_BUDGET = 1500  # S3 allows 2 KB of user metadata per object


def open_run(
    raw_request: Any, execution_id: str, execution_name: str, started_at: str, settings: Settings, s3: Any
) -> Task:
    request = parse_request(raw_request, settings)
    keys = RunKeys(prefix=request.output.prefix, execution_name=execution_name)
    run = Run(
        execution_id=execution_id,
        execution_name=execution_name,
        bucket=request.output.bucket,
        folder=keys.folder,
        manifest_key=keys.manifest,
    )
    manifest = Manifest(
        execution_id=execution_id,
        execution_name=execution_name,
        started_at=started_at,
        request=request.model_dump(mode="json"),
    )
    ManifestStore(s3, run.bucket, run.manifest_key).create(manifest)
    return Task(request=request, run=run)


def _metadata(values: dict[str, str]) -> dict[str, str]:
    """Percent-encode (S3 metadata is ASCII) and shorten the long texts to fit S3's limit."""
    encoded = {name: quote(value, safe=" ,.:;/-_()'") for name, value in values.items()}
    while sum(len(k) + len(v) for k, v in encoded.items()) > _METADATA_BUDGET:
        longest = max(encoded, key=lambda k: len(encoded[k]))
        encoded[longest] = encoded[longest][: len(encoded[longest]) // 2].rsplit("%", 1)[0] + "..."
    return encoded


def record_generation(task: CandidateAttempt, generation: Generation, s3: Any) -> Record:
    key = None
    if generation.outcome == "image" and generation.staging_key:
        extension = generation.staging_key.rsplit(".", 1)[-1]
        key = task.image_key(extension)
        _move(s3, task.run, generation, key, task)
    entry = Entry(
        revision=task.revision,
        attempt=task.attempt,
        candidate=task.candidate,
        outcome=generation.outcome,
        prompt=task.prompt,
        negative_prompt=task.negative_prompt,
        model_id=generation.model_id,
        seed=generation.seed,
        key=key,
        refusal=generation.refusal,
        sent_prompt=generation.sent_prompt,
        note=generation.note,
    )
    ManifestStore(s3, task.run.bucket, task.run.manifest_key).update(lambda m: m.put_entry(entry))
    return Record(key=key)


def _move(s3: Any, run: Run, generation: Generation, key: str, task: CandidateAttempt) -> None:
    staging = generation.staging_key
    try:
        s3.head_object(Bucket=run.bucket, Key=staging)
    except ClientError as error:
        if error.response["Error"]["Code"] not in ("404", "NoSuchKey", "NotFound"):
            raise
        # A retried Save whose first try already moved the image: the image is where it belongs.
        s3.head_object(Bucket=run.bucket, Key=key)
        return
    s3.copy_object(
        Bucket=run.bucket,
        Key=key,
        CopySource={"Bucket": run.bucket, "Key": staging},
        MetadataDirective="REPLACE",
        ContentType=generation.content_type or "application/octet-stream",
        Metadata=_metadata(
            {
                "prompt": task.prompt,
                "negative-prompt": task.negative_prompt,
                "model-id": generation.model_id,
                "seed": str(generation.seed),
                "execution-id": run.execution_id,
                "revision": str(task.revision),
                "attempt": str(task.attempt),
                "candidate": str(task.candidate),
            }
        ),
    )
    s3.delete_object(Bucket=run.bucket, Key=staging)


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
    assert best.key is not None
    store = ManifestStore(s3, task.run.bucket, task.run.manifest_key)

    def finish(manifest: Manifest) -> None:
        manifest.status = "succeeded"
        manifest.finished_at = now()
        manifest.winner = Winner(
            revision=task.revision, attempt=task.attempt, candidate=best.candidate, key=best.key or ""
        )

    manifest = store.update(finish)
    bucket_url, object_url = console_urls(task.run.bucket, best.key, settings.region)
    images = sum(1 for e in manifest.entries if e.outcome == "image")
    return Success(
        message=f"Image accepted at revision {task.revision}, attempt {task.attempt}, after {images} image(s).",
        bucket=task.run.bucket,
        key=best.key,
        s3_uri=f"s3://{task.run.bucket}/{best.key}",
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
    store = ManifestStore(s3, task.run.bucket, task.run.manifest_key)

    def finish(manifest: Manifest) -> None:
        manifest.status = "requirements_not_met"
        manifest.finished_at = now()

    manifest = store.update(finish)
    images = [e for e in manifest.entries if e.outcome == "image"]
    refused = len(manifest.entries) - len(images)
    prompts = len({e.revision for e in manifest.entries})
    judged = [e for e in images if e.verdict is not None]
    summary = (
        f"No image met the requirement: {len(images)} image(s) judged and {refused} generation(s) "
        f"refused over {prompts} prompt(s)."
    )
    if judged:
        best = max(judged, key=lambda e: (e.verdict.score if e.verdict else -1, -e.revision, -e.attempt, -e.candidate))
        assert best.verdict is not None
        summary += (
            f" Best: score {best.verdict.score}/10, s3://{task.run.bucket}/{best.key} "
            f"(revision {best.revision}, attempt {best.attempt}{_of(best)}): {best.verdict.reason}"
        )
    summary += f" Manifest: s3://{task.run.bucket}/{task.run.manifest_key}"
    return NotMet(cause=summary)


def _of(entry: Entry) -> str:
    return f", candidate {entry.candidate}" if entry.candidate > 1 else ""

"""Keep the run's record: check the request and open the manifest, file each image, close the run."""

from typing import Any

from common.images import file_image
from common.keys import RunKeys
from common.manifest import Entry, Manifest, ManifestStore
from common.payloads import CandidateAttempt, Generation, Record, Run, Task
from common.request import parse_request
from common.settings import Settings


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


def record_generation(task: CandidateAttempt, generation: Generation, s3: Any) -> Record:
    key = None
    if generation.outcome == "image" and generation.staging_key:
        extension = generation.staging_key.rsplit(".", 1)[-1]
        key = task.image_key(extension, task.candidate)
        file_image(s3, task.run.bucket, generation.staging_key, key)
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

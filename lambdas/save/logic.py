"""Keep the run's record: check the request and open the manifest, file each image, close the run."""

from typing import Any

from common.images import file_image
from common.lifecycle import check_request
from common.manifest import Entry, EntryCost, Manifest, ManifestStore, now
from common.prices import to_usd
from common.results import Opened, Recorded, Run
from common.settings import Settings
from common.spend import budget
from common.tasks import ExecutionStart, RecordTask
from save.sources import check_sources


def open_run(raw_request: Any, execution: ExecutionStart, settings: Settings, s3: Any) -> Opened:
    request, substitutions = check_request(raw_request, settings)
    check_sources(request, settings, s3)
    spend = budget(request)
    run = Run.of(execution.id, execution.name, request.output.bucket, request.output.prefix)
    manifest = Manifest(
        execution_id=execution.id,
        execution_name=execution.name,
        started_at=execution.started_at or now(),
        request=request.model_dump(mode="json"),
        substitutions=substitutions,
    )
    ManifestStore(s3, run.bucket, run.manifest_key).create(manifest)
    return Opened(request=request, run=run, substitutions=[s.line for s in substitutions], budget=spend)


def record_generation(task: RecordTask, s3: Any) -> Recorded:
    generation = task.generation
    key = None
    if generation.outcome == "image" and generation.staging_key:
        extension = generation.staging_key.rsplit(".", 1)[-1]
        key = task.image_key(extension)
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
        strength=task.strength,
        note=generation.note,
        cost=EntryCost(image_usd=to_usd(generation.usd_micro), prompt_usd=to_usd(task.prompt_usd_micro)),
    )
    ManifestStore(s3, task.run.bucket, task.run.manifest_key).update(lambda m: m.put_entry(entry))
    return Recorded(key=key)

"""Ask the image model for one image and put it in S3's staging area; a refusal is an outcome."""

import base64
import json
import random
from typing import Any

from botocore.exceptions import ClientError

from common.bedrock_errors import error_message, is_refusal, model_call
from common.errors import ModelServiceError
from common.generators.base import EditInput, RefusedGeneration
from common.images import encode_metadata, read_edited
from common.observability import logger
from common.results import Generated
from common.sections import S3Image
from common.spend import image_micro
from common.tasks import GenerateTask


def generate(task: GenerateTask, bedrock: Any, s3: Any, rng: random.Random) -> Generated:
    generator = task.generator
    seed = generator.choose_seed(rng, task.image_number)
    sent, note = _prompt_for_model(task)
    body = generator.request_body(sent, generator.fit(task.negative_prompt), seed, _edit_input(task, s3))
    refused = Generated(
        outcome="refused", model_id=generator.model_id, seed=seed, sent_prompt=_if_changed(sent, task.prompt), note=note
    )
    with model_call(generator.model_id):
        try:
            response = bedrock.invoke_model(
                modelId=generator.model_id,
                body=json.dumps(body, ensure_ascii=False),
                contentType="application/json",
                accept="application/json",
            )
        except ClientError as error:
            # SD3.5 answers a prompt it will not draw (a non-English one, say) with a
            # ValidationException and no image: a failed attempt, not a failed run.
            if not is_refusal(error):
                raise
            return refused.model_copy(update={"refusal": f"model rejected the prompt: {error_message(error)}"})
    # The model answered, so the call is billed, an image or not.
    refused = refused.model_copy(update={"usd_micro": image_micro(generator)})
    result = generator.read_response(_json_object(response["body"].read(), generator.model_id), seed)
    if isinstance(result, RefusedGeneration):
        logger.warning("generation refused", extra={"reason": result.reason, "seed": result.seed})
        return refused.model_copy(update={"refusal": result.reason, "seed": result.seed})
    key = task.image_key(result.extension, staging=True)
    metadata = {
        "prompt": task.prompt,
        "negative-prompt": task.negative_prompt,
        "model-id": generator.model_id,
        "seed": str(result.seed),
        "execution-id": task.run.execution_id,
        "revision": str(task.revision),
        "attempt": str(task.attempt),
        "candidate": str(task.candidate),
    }
    s3.put_object(
        Bucket=task.run.bucket,
        Key=key,
        Body=result.data,
        ContentType=result.content_type,
        Metadata=encode_metadata(metadata),
    )
    return refused.model_copy(
        update={"outcome": "image", "seed": result.seed, "staging_key": key, "content_type": result.content_type}
    )


def _edit_input(task: GenerateTask, s3: Any) -> EditInput | None:
    """The source (and mask) as the model takes them, read from S3; None when drawing from text."""
    edit = task.edit
    if edit.source_image is None:
        return None
    mask = _base64(s3, edit.mask_image) if edit.mask_image else None
    margins = task.outpaint.model_dump() if task.outpaint else None
    return EditInput(
        image=_base64(s3, edit.source_image),
        mask=mask,
        strength=task.strength,
        search_prompt=task.search_prompt,
        margins=margins,
    )


def _base64(s3: Any, image: S3Image) -> str:
    return base64.b64encode(read_edited(s3, image.bucket, image.key)).decode()


def _prompt_for_model(task: GenerateTask) -> tuple[str, str | None]:
    template = task.prompt_template
    prompt = template.replace("{prompt}", task.prompt) if template else task.prompt
    sent = task.generator.fit(prompt)
    if len(sent) == len(prompt):
        return sent, None
    note = f"prompt shortened from {len(prompt)} to {len(sent)} characters for {task.generator.model_id}"
    logger.warning(note)
    return sent, note


def _if_changed(sent: str, prompt: str) -> str | None:
    return None if sent == prompt else sent


def _json_object(raw: bytes, model_id: str) -> dict[str, Any]:
    """The model's answer; anything but a JSON object is a fault of the service, retried as one."""
    try:
        answer = json.loads(raw)
    except ValueError:
        answer = None
    if not isinstance(answer, dict):
        raise ModelServiceError(f"{model_id}: the answer is not a JSON object ({len(raw)} bytes)")
    return answer

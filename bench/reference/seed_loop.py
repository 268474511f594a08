"""S1's loop as one Lambda would run it: generate, save to S3, validate, revise after N failures, in sequence.

Its control flow is the seed's (SEEDS.md, S1):

1. for each prompt (the original, then up to `max_prompt_revisions` revised ones), up to
   `max_retry_attempts` attempts: generate with SD3.5 Large; a prompt the model rejects is a failed attempt
   (no save, no validation); else save the image to S3 under `{prefix}-{yyyymmddHHMMSS}-{rev:03d}-{att:03d}`
   and ask a vision model whether it meets the prompt (the current one, as S1 does);
2. the first image that passes ends the run with SUCCESS and the S3 console URLs;
3. when a prompt's attempts are used up and revisions remain, a text model rewrites it from the failures
   and proposes a negative prompt; when revisions are used up, the run ends with FAIL.

What is not S1's: the model requests are the project's own (its SD3.5 adapter, its judge with the forced
`record_verdict` tool, its reviser rubric and `propose_prompt` tool), since the stand-in answers Converse
tool calls and since the comparison is about orchestration, so every contender sends the same model work.
S1 counted `max_prompt_revisions` as revised prompts after the original, as the project does (budget
`max_retry_attempts x (max_prompt_revisions + 1)` images).
"""

import json
import logging
import random
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from bench.latency import Meter
from bench.verdicts import Position
from common.bedrock_errors import is_refusal
from common.converse import ask_with_tool
from common.generators.base import RefusedGeneration
from common.generators.stability import StabilityGenerator
from common.names import CLAUDE_SONNET, DEFAULT_REGION, SD35_LARGE, CallTags
from common.sections import ConverseConfig
from revise.feedback import SUGGESTED_FIX
from revise.logic import PROMPT_TOOL, REVISE_RUBRIC
from validate.logic import judge

log = logging.getLogger("bench.reference")


@dataclass(frozen=True)
class SeedEvent:
    """S1's event, the fields the loop reads."""

    prompt: str
    bucket: str
    prefix: str = "generated-images"
    max_retry_attempts: int = 5
    max_prompt_revisions: int = 2
    sd_model_id: str = SD35_LARGE
    sd_aspect_ratio: str = "1:1"
    sd_output_format: str = "png"
    sd_seed: int = 0
    validate_model_id: str = CLAUDE_SONNET
    revise_model_id: str = CLAUDE_SONNET
    max_tokens: int = 2048
    region: str = DEFAULT_REGION


@dataclass
class SeedResult:
    status: str  # SUCCESS or FAIL
    message: str
    key: str | None = None
    console_urls: dict[str, str] = field(default_factory=dict)


def handler(event: SeedEvent, bedrock: Any, s3: Any, meter: Meter | None = None) -> SeedResult:
    """The whole loop, as the seed's one Lambda invocation runs it."""
    if meter is None:
        return _loop(event, bedrock, s3, None)
    with meter.task(None):
        return _loop(event, bedrock, s3, meter)


def _loop(event: SeedEvent, bedrock: Any, s3: Any, meter: Meter | None) -> SeedResult:
    generator = StabilityGenerator.model_validate(
        {
            "model_id": event.sd_model_id,
            "aspect_ratio": event.sd_aspect_ratio,
            "output_format": event.sd_output_format,
            "seed": event.sd_seed,
        }
    )
    validator = ConverseConfig(model_id=event.validate_model_id, max_tokens=event.max_tokens)
    reviser = ConverseConfig(model_id=event.revise_model_id, max_tokens=event.max_tokens)
    rng = random.Random()
    prompt, negative = event.prompt, ""
    for revision in range(event.max_prompt_revisions + 1):
        failures: list[str] = []
        for attempt in range(1, event.max_retry_attempts + 1):
            position = Position(revision, attempt)
            with meter.at(position) if meter else nullcontext():
                image = _generate(bedrock, generator, prompt, negative, rng)
                if isinstance(image, str):
                    log.info("generation refused", extra={"revision": revision, "attempt": attempt})
                    failures.append(f"attempt {attempt}: the model made no image: {image}")
                    continue
                key = _save(s3, event, revision, attempt, image)
                verdict = judge(bedrock, validator, prompt, image, event.sd_output_format)
            if verdict.passed:
                return SeedResult("SUCCESS", f"image meets the prompt: {verdict.reason}", key, _console(event, key))
            fix = SUGGESTED_FIX.format(fix=verdict.suggested_fix) if verdict.suggested_fix else ""
            failures.append(f"attempt {attempt}: score {verdict.score}/10: {verdict.reason}{fix}")
        if revision < event.max_prompt_revisions:
            prompt, negative = _revise(bedrock, reviser, generator, event.prompt, prompt, negative, failures)
    return SeedResult("FAIL", f"no image met the prompt after {event.max_prompt_revisions} revision(s)")


def _generate(
    bedrock: Any, generator: StabilityGenerator, prompt: str, negative: str, rng: random.Random
) -> bytes | str:
    """The image's bytes, or why the model made none."""
    seed = generator.choose_seed(rng)
    body = generator.request_body(prompt, negative, seed)
    try:
        response = bedrock.invoke_model(
            modelId=generator.model_id,
            body=json.dumps(body),
            contentType="application/json",
            accept="application/json",
        )
    except ClientError as error:
        if is_refusal(error):
            return str(error)
        raise
    result = generator.read_response(json.loads(response["body"].read()), seed)
    return result.reason if isinstance(result, RefusedGeneration) else result.data


def _save(s3: Any, event: SeedEvent, revision: int, attempt: int, image: bytes) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    key = f"{event.prefix}-{stamp}-{revision:03d}-{attempt:03d}.{event.sd_output_format}"
    s3.put_object(Bucket=event.bucket, Key=key, Body=image, ContentType=f"image/{event.sd_output_format}")
    return key


def _revise(
    bedrock: Any,
    reviser: ConverseConfig,
    generator: StabilityGenerator,
    requirement: str,
    prompt: str,
    negative: str,
    failures: list[str],
) -> tuple[str, str]:
    """The rewritten prompt and negative prompt; the old ones when the answer is not usable (as S1 does)."""
    system = REVISE_RUBRIC.format(
        model_id=generator.model_id,
        guidelines=generator.prompt_guidelines,
        max_chars=generator.max_prompt_chars,
        tool=PROMPT_TOOL.name,
    )
    text = (
        f"<requirement>\n{requirement}\n</requirement>\n"
        f"<last_prompt>\n{prompt}\n</last_prompt>\n"
        f"<last_negative_prompt>\n{negative}\n</last_negative_prompt>\n"
        f"<failures>\n{chr(10).join(failures)}\n</failures>"
    )
    tags = {CallTags.ROLE: "revise", CallTags.TARGET: generator.model_id}
    reply = ask_with_tool(bedrock, reviser, system, [{"text": text}], PROMPT_TOOL, tags)
    data = reply.data or {}
    new_prompt, new_negative = data.get("prompt"), data.get("negative_prompt")
    if not isinstance(new_prompt, str) or not new_prompt.strip():
        return prompt, negative
    return new_prompt.strip(), new_negative.strip() if isinstance(new_negative, str) else negative


def _console(event: SeedEvent, key: str) -> dict[str, str]:
    base = "https://s3.console.aws.amazon.com/s3"
    return {
        "bucket": f"{base}/buckets/{event.bucket}?region={event.region}",
        "object": f"{base}/object/{event.bucket}?region={event.region}&prefix={key}",
    }

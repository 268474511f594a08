"""What Bedrock answers, in the shapes botocore hands a caller: each image family's response body (an image,
or a content filter's HTTP 200 refusal), Converse replies, and the error answers worded as Bedrock words them.

The Bedrock stand-in, the local Lambdas and the tests' fault injector build every answer here, so each shape
is spelled once.
"""

import base64
import binascii
import io
import json
import uuid
from dataclasses import dataclass
from typing import Any, Literal

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody

from common.contracts import families, wording
from common.generators.stability import SIZES

# A reply a before-call handler returns in place of the HTTP exchange.
Answered = tuple[AWSResponse, dict[str, Any]]


@dataclass(frozen=True)
class HttpError:
    """The service answers with this HTTP status and error code."""

    status: int
    code: str
    message: str = "Injected fault."


THROTTLED = HttpError(429, "ThrottlingException", "Too many requests, please wait before trying again.")
MODEL_TIMEOUT = HttpError(408, "ModelTimeoutException", "Model has timed out in processing the request.")
# Bedrock's documented wording (contracts/wording.json; at runtime it has also been seen to say "Bedrock is
# unable to process your request.").
SERVICE_UNAVAILABLE = HttpError(503, "ServiceUnavailableException", wording()["service_unavailable"]["message"])
INTERNAL_ERROR = HttpError(500, "InternalServerException", "Internal server error")
# SD3.5 refuses a prompt it cannot read (a Japanese one, say) as a bad request.
PROMPT_NOT_ENGLISH = HttpError(
    400, "ValidationException", "The prompt is not in a supported language: only English is supported."
)
UNKNOWN_MODEL = HttpError(400, "ValidationException", "The provided model identifier is invalid.")
# A model past its end-of-life date, on InvokeModel and Converse alike: HTTP 404, as seen on AWS in
# awsdocs/aws-doc-sdk-examples#6403 (InvokeModel) and aws-samples/serverless-patterns#2855 (status 404).
END_OF_LIFE = HttpError(
    404,
    "ResourceNotFoundException",
    "This model version has reached the end of its life. Please refer to the AWS documentation for more details.",
)
# A Legacy model, to an account that has not used it lately (every new one): HTTP 404 as well.
LEGACY = HttpError(404, "ResourceNotFoundException", wording()["legacy"]["message"])
# Nova Canvas's content filter: a blocked prompt is a bad request, a blocked image an HTTP 200 with an
# `error` text (Amazon Nova user guide, "Error handling").
_NOVA_REFUSALS: dict[str, str] = families()["nova-canvas"].refusals or {}
PROMPT_BLOCKED = HttpError(400, "ValidationException", _NOVA_REFUSALS["prompt"])


def rejected_body(message: str) -> HttpError:
    """Bedrock's answer to a body outside the model's contract."""
    return HttpError(400, "ValidationException", message)


def ok(parsed: dict[str, Any], url: str) -> Answered:
    parsed = {**parsed, "ResponseMetadata": {"HTTPStatusCode": 200, "RequestId": str(uuid.uuid4())}}
    return AWSResponse(url, 200, {}, None), parsed


def failed(error: HttpError, url: str) -> Answered:
    parsed = {
        "Error": {"Code": error.code, "Message": error.message},
        "ResponseMetadata": {"HTTPStatusCode": error.status, "RequestId": str(uuid.uuid4())},
    }
    return AWSResponse(url, error.status, {}, None), parsed


def streamed(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def invoke_model_output(body: dict[str, Any] | bytes) -> dict[str, Any]:
    """InvokeModel's parsed output around a response body (any bytes, to answer with a broken one)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {"body": streamed(data), "contentType": "application/json"}


# Image models. Stability's SD3.5 / Stable Image API, SDXL 1.0, and the TEXT_IMAGE task that Nova Canvas and
# Titan Image share.
ImageFamily = Literal["stability", "sdxl", "amazon"]

# The sizes SD3.5 draws for its aspect ratios, as the family knows them.
STABILITY_SIZES = SIZES


EditMode = Literal["image-to-image", "inpaint", "outpaint", "search-replace", "erase"]
_MARGINS = ("left", "right", "up", "down")


@dataclass(frozen=True)
class EditRequest:
    """What a Stability edit body asks for: SD3.5's image-to-image, or one of the Image Services. The
    services share one body shape, so the mode is read from the fields each one takes: search_prompt
    (search-replace), margins (outpaint), no prompt (erase), else a prompt and a mask (inpaint)."""

    mode: EditMode
    source: bytes
    mask: bytes | None
    strength: float  # image-to-image: 0 keeps the source, 1 ignores it
    margins: tuple[int, int, int, int]  # left, right, up, down

    @classmethod
    def read(cls, body: dict[str, Any]) -> "EditRequest | None":
        image = body.get("image")
        if not isinstance(image, str):
            return None
        mode: EditMode
        if body.get("mode") == "image-to-image":
            mode = "image-to-image"
        elif "search_prompt" in body:
            mode = "search-replace"
        elif any(side in body for side in _MARGINS):
            mode = "outpaint"
        elif "prompt" not in body:
            mode = "erase"
        else:
            mode = "inpaint"
        mask = body.get("mask")
        left, right, up, down = (int(body.get(side) or 0) for side in _MARGINS)
        return cls(
            mode=mode,
            source=base64.b64decode(image),
            mask=base64.b64decode(mask) if isinstance(mask, str) else None,
            strength=float(body.get("strength") or 0),
            margins=(left, right, up, down),
        )


@dataclass(frozen=True)
class ImageRequest:
    """What an InvokeModel body asks of an image model, read from its family's request shape."""

    family: ImageFamily
    prompt: str
    seed: int
    width: int
    height: int
    image_format: Literal["PNG", "JPEG"]
    count: int
    edit: EditRequest | None = None  # an edit of a source image; its size follows the source

    @classmethod
    def read(cls, body: dict[str, Any]) -> "ImageRequest":
        if "text_prompts" in body:
            prompts = [p for p in body["text_prompts"] if p.get("weight", 1.0) > 0]
            prompt = prompts[0]["text"] if prompts else ""
            size = (body.get("width", 1024), body.get("height", 1024))
            return cls("sdxl", prompt, body.get("seed", 0), *size, "PNG", 1)
        if body.get("taskType") == "TEXT_IMAGE":
            config = body.get("imageGenerationConfig", {})
            size = (config.get("width", 1024), config.get("height", 1024))
            count = config.get("numberOfImages", 1)
            return cls("amazon", body["textToImageParams"]["text"], config.get("seed", 0), *size, "PNG", count)
        size = STABILITY_SIZES.get(body.get("aspect_ratio", "1:1"), (1024, 1024))
        image_format: Literal["PNG", "JPEG"] = "PNG" if body.get("output_format", "png") == "png" else "JPEG"
        edit = EditRequest.read(body)
        return cls("stability", body.get("prompt", ""), body.get("seed", 0), *size, image_format, 1, edit)


def image_response(family: ImageFamily, seed: int, images: list[bytes]) -> dict[str, Any]:
    encoded = [base64.b64encode(image).decode() for image in images]
    if family == "sdxl":
        return {
            "result": "success",
            "artifacts": [{"seed": seed, "base64": data, "finishReason": "SUCCESS"} for data in encoded],
        }
    if family == "amazon":
        return {"images": encoded, "error": None}
    return {"seeds": [seed] * len(encoded), "finish_reasons": [None] * len(encoded), "images": encoded}


def filtered_response(family: ImageFamily, seed: int) -> dict[str, Any]:
    """A content filter's refusal: each family answers it with HTTP 200 and says so in its own field."""
    if family == "sdxl":
        return {"result": "success", "artifacts": [{"seed": seed, "base64": "", "finishReason": "CONTENT_FILTERED"}]}
    if family == "amazon":
        return {"images": [], "error": _NOVA_REFUSALS["output"]}
    return {"seeds": [seed], "finish_reasons": ["Filter reason: prompt"], "images": []}


def carries_image(data: bytes) -> bool:
    """Whether an InvokeModel answer holds an image, in any family's response shape."""
    try:
        body = json.loads(data)
    except ValueError:
        return False
    if not isinstance(body, dict):
        return False
    if isinstance(body.get("artifacts"), list):
        artifacts = body["artifacts"]
        first = artifacts[0] if artifacts and isinstance(artifacts[0], dict) else {}
        return first.get("finishReason", "SUCCESS") == "SUCCESS" and _is_base64(first.get("base64"))
    reasons = body.get("finish_reasons") or [None]
    images = body.get("images") or []
    return not body.get("error") and not reasons[0] and bool(images) and _is_base64(images[0])


def _is_base64(value: Any) -> bool:
    if not isinstance(value, str) or not value:
        return False
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        return False
    return True


# Converse.
def message_reply(content: list[dict[str, Any]], stop_reason: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop_reason,
        "usage": {"inputTokens": 1200, "outputTokens": 150, "totalTokens": 1350},
        "metrics": {"latencyMs": 900},
    }


def tool_use_reply(name: str, tool_input: dict[str, Any], tool_use_id: str = "tool-1") -> dict[str, Any]:
    return message_reply([{"toolUse": {"toolUseId": tool_use_id, "name": name, "input": tool_input}}], "tool_use")


def text_reply(text: str) -> dict[str, Any]:
    return message_reply([{"text": text}], "end_turn")

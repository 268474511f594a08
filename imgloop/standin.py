"""A Bedrock stand-in at the botocore level: the handlers send their real request bodies and parse
realistic responses, so local runs and tests exercise the same code that runs on AWS.

It answers InvokeModel in the Stability response shape (an image drawn with Pillow, showing the
prompt) and Converse with a forced tool call (a verdict or a revised prompt), as a scenario says.
"""

import base64
import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from botocore.response import StreamingBody
from PIL import Image, ImageDraw

STABILITY_SIZES = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "21:9": (1536, 640),
    "2:3": (832, 1216),
    "3:2": (1216, 832),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
    "9:16": (768, 1344),
    "9:21": (640, 1536),
}


@dataclass
class Scenario:
    reject_first: int = 0  # the judge says no to the first K images
    fail_generate_first: int = 0  # the image model rejects its first K prompts (as SD3.5 rejects Japanese)
    filter_first: int = 0  # then the next K images are content-filtered, answered with HTTP 200
    throttle_first: int = 0  # the first K Bedrock calls of any kind are throttled
    judge_without_tool: bool = False  # the judge answers in prose instead of the verdict tool
    retired: tuple[str, ...] = ()  # model ids Bedrock answers as retired


@dataclass
class Call:
    operation: str
    model_id: str
    body: dict[str, Any]


@dataclass
class BedrockStandIn:
    scenario: Scenario = field(default_factory=Scenario)
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counts: dict[str, int] = field(default_factory=lambda: {"all": 0, "generate": 0, "judge": 0, "revise": 0})

    def register(self, events: Any) -> None:
        events.register("before-call.bedrock-runtime.InvokeModel", self._on_invoke_model)
        events.register("before-call.bedrock-runtime.Converse", self._on_converse)

    def calls_of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def _admit(self, kind: str) -> int | None:
        """None when this call is throttled; else how many calls of its kind reached the model."""
        with self._lock:
            self._counts["all"] += 1
            if self._counts["all"] <= self.scenario.throttle_first:
                return None
            self._counts[kind] += 1
            return self._counts[kind]

    def _record(self, operation: str, params: dict[str, Any]) -> Call:
        model_id = unquote(params["url_path"].split("/model/", 1)[1].rsplit("/", 1)[0])
        call = Call(operation=operation, model_id=model_id, body=json.loads(params["body"] or b"{}"))
        with self._lock:
            self.calls.append(call)
        return call

    def _on_invoke_model(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        call = self._record("InvokeModel", params)
        if call.model_id in self.scenario.retired:
            return _retired()
        nth = self._admit("generate")
        if nth is None:
            return _throttled()
        if nth <= self.scenario.fail_generate_first:
            return _error(
                400, "ValidationException", "The prompt is not in a supported language: only English is supported."
            )
        filtered = nth <= self.scenario.fail_generate_first + self.scenario.filter_first
        return _ok(
            {
                "body": _stream(json.dumps(_image_answer(call.body, filtered)).encode()),
                "contentType": "application/json",
            }
        )

    def _on_converse(self, params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        call = self._record("Converse", params)
        if call.model_id in self.scenario.retired:
            return _retired()
        tool = call.body["toolConfig"]["tools"][0]["toolSpec"]["name"]
        kind = "judge" if tool == "record_verdict" else "revise"
        nth = self._admit(kind)
        if nth is None:
            return _throttled()
        if kind == "judge":
            if self.scenario.judge_without_tool:
                return _ok(_message([{"text": "Looks great to me, YES."}], "end_turn"))
            verdict = _verdict(call.body, passed=nth > self.scenario.reject_first)
            return _ok(
                _message([{"toolUse": {"toolUseId": f"tool-{nth}", "name": tool, "input": verdict}}], "tool_use")
            )
        proposal = _proposal(call.body, nth)
        return _ok(_message([{"toolUse": {"toolUseId": f"tool-{nth}", "name": tool, "input": proposal}}], "tool_use"))


def _image_answer(body: dict[str, Any], filtered: bool) -> dict[str, Any]:
    """The family's own response shape, including how it reports a content-filtered image."""
    if "text_prompts" in body:  # SDXL 1.0
        seed = body.get("seed", 0)
        if filtered:
            return {
                "result": "success",
                "artifacts": [{"seed": seed, "base64": "", "finishReason": "CONTENT_FILTERED"}],
            }
        image = draw(body["text_prompts"][0]["text"], body.get("width", 1024), body.get("height", 1024), "PNG")
        return {"result": "success", "artifacts": [{"seed": seed, "base64": _b64(image), "finishReason": "SUCCESS"}]}
    if body.get("taskType") == "TEXT_IMAGE":  # Nova Canvas, Titan Image
        if filtered:
            return {"images": [], "error": "This request has been blocked by our content filters."}
        config = body.get("imageGenerationConfig", {})
        count = config.get("numberOfImages", 1)
        image = draw(body["textToImageParams"]["text"], config.get("width", 1024), config.get("height", 1024), "PNG")
        return {"images": [_b64(image)] * count, "error": None}
    seed = body.get("seed", 0)  # Stability SD3.5 / Stable Image
    if filtered:
        return {"seeds": [seed], "finish_reasons": ["Filter reason: prompt"], "images": []}
    width, height = STABILITY_SIZES.get(body.get("aspect_ratio", "1:1"), (1024, 1024))
    fmt = "PNG" if body.get("output_format", "png") == "png" else "JPEG"
    return {
        "seeds": [seed],
        "finish_reasons": [None],
        "images": [_b64(draw(body.get("prompt", ""), width, height, fmt))],
    }


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _user_text(body: dict[str, Any]) -> str:
    return " ".join(b["text"] for b in body["messages"][0]["content"] if "text" in b)


def _between(text: str, tag: str) -> str:
    start, end = f"<{tag}>", f"</{tag}>"
    return text.split(start, 1)[1].split(end, 1)[0].strip() if start in text and end in text else text


def _verdict(body: dict[str, Any], passed: bool) -> dict[str, Any]:
    requirement = _between(_user_text(body), "requirement")
    elements = [part.strip() for part in requirement.replace("、", ",").split(",") if part.strip()][:6]
    checks = [
        {"requirement": element, "ok": passed or i > 0, "evidence": "visible" if passed or i > 0 else "missing"}
        for i, element in enumerate(elements)
    ]
    return {
        "pass": passed,
        "score": 9 if passed else 4,
        "checks": checks,
        "primary_issue": "" if passed else f"'{elements[0] if elements else requirement}' is not clearly shown",
        "suggested_fix": "" if passed else "describe that element first and more concretely",
    }


def _proposal(body: dict[str, Any], nth: int) -> dict[str, Any]:
    requirement = _between(_user_text(body), "requirement")
    if "<failures>" not in _user_text(body):  # a translation before the first attempt
        return {"prompt": f"Here is the translation: English rendering of '{requirement}'", "negative_prompt": ""}
    return {
        "prompt": f"Photorealistic landscape (revision {nth}): {requirement}. Sharp focus, natural light.",
        "negative_prompt": "people, text, watermark, blur",
    }


def _message(content: list[dict[str, Any]], stop: str) -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 1200, "outputTokens": 150, "totalTokens": 1350},
        "metrics": {"latencyMs": 900},
    }


def draw(prompt: str, width: int, height: int, fmt: str) -> bytes:
    image = Image.new("RGB", (width, height), (20, 40, 80))
    pen = ImageDraw.Draw(image)
    for y in range(0, height, 16):
        shade = 40 + int(120 * y / height)
        pen.rectangle((0, y, width, y + 16), fill=(shade // 3, shade // 2, shade))
    words, line, lines = prompt.split(), "", []
    for word in words:
        if len(line) + len(word) > 48:
            lines.append(line)
            line = ""
        line += word + " "
    lines.append(line)
    for i, text in enumerate(lines[:20]):
        pen.text((24, 24 + 22 * i), text, fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def _stream(data: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(data), len(data))


def _ok(parsed: dict[str, Any]) -> tuple[AWSResponse, dict[str, Any]]:
    parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "RequestId": "standin"}
    return AWSResponse("https://bedrock-runtime.local", 200, {}, None), parsed


def _error(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    parsed = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return AWSResponse("https://bedrock-runtime.local", status, {}, None), parsed


def _retired() -> tuple[AWSResponse, dict[str, Any]]:
    return _error(400, "ValidationException", "The provided model identifier is invalid.")


def _throttled() -> tuple[AWSResponse, dict[str, Any]]:
    return _error(429, "ThrottlingException", "Too many requests, please wait before trying again.")

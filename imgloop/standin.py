"""A Bedrock stand-in at the botocore level: the handlers send their real request bodies and parse
realistic responses, so local runs and tests exercise the same code that runs on AWS.

It answers InvokeModel in each image family's response shape (an image drawn with Pillow, showing the
prompt) and Converse with a forced tool call (a verdict or a revised prompt), as a scenario says.
"""

import io
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from PIL import Image, ImageDraw

from imgloop.answers import (
    PROMPT_NOT_ENGLISH,
    THROTTLED,
    Answered,
    ImageRequest,
    failed,
    image_response,
    invoke_model_output,
    ok,
    tool_use_reply,
)

_URL = "https://bedrock-runtime.local"


@dataclass
class Scenario:
    reject_first: int = 0  # the judge says no to the first K images
    fail_generate_first: int = 0  # the image model rejects its first K prompts (as SD3.5 rejects Japanese)
    throttle_first: int = 0  # the first K Bedrock calls of any kind are throttled


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

    def _on_invoke_model(self, params: dict[str, Any], **_: Any) -> Answered:
        call = self._record("InvokeModel", params)
        nth = self._admit("generate")
        if nth is None:
            return failed(THROTTLED, _URL)
        if nth <= self.scenario.fail_generate_first:
            return failed(PROMPT_NOT_ENGLISH, _URL)
        request = ImageRequest.read(call.body)
        images = [draw(request.prompt, request.width, request.height, request.image_format)] * request.count
        return ok(invoke_model_output(image_response(request.family, request.seed, images)), _URL)

    def _on_converse(self, params: dict[str, Any], **_: Any) -> Answered:
        call = self._record("Converse", params)
        tool = call.body["toolConfig"]["tools"][0]["toolSpec"]["name"]
        kind = "judge" if tool == "record_verdict" else "revise"
        nth = self._admit(kind)
        if nth is None:
            return failed(THROTTLED, _URL)
        answer = (
            _verdict(call.body, passed=nth > self.scenario.reject_first)
            if kind == "judge"
            else _proposal(call.body, nth)
        )
        return ok(tool_use_reply(tool, answer, f"tool-{nth}"), _URL)


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

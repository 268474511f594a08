"""A Bedrock stand-in at the botocore level: the handlers send their real request bodies and parse
realistic responses, so local runs and tests exercise the same code that runs on AWS.

It answers InvokeModel in each image family's response shape, with a picture drawn from the prompt and
the seed (or, for an edit, the source image edited as the mode asks), and Converse with a forced tool
call: a verdict, or a prompt rewritten in the target model's style from the judge's reasons. A scenario
adds the demo's refusals, rejections and throttling, and edits that spill outside their mask.
"""

import base64
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from common.catalogue import lookup
from common.contracts import bedrock_message, contract_for, converse_images
from common.image_files import probe
from common.names import JUDGE_TOOL
from imgloop.local.standin.answers import (
    END_OF_LIFE,
    LEGACY,
    PROMPT_BLOCKED,
    PROMPT_NOT_ENGLISH,
    THROTTLED,
    Answered,
    HttpError,
    ImageRequest,
    failed,
    filtered_response,
    image_response,
    invoke_model_output,
    ok,
    rejected_body,
    tool_use_reply,
)
from imgloop.local.standin.judge import verdict
from imgloop.local.standin.messages import requirement, user_text
from imgloop.local.standin.pictures import draw, edit
from imgloop.local.standin.quota import QuotaMeter, Quotas
from imgloop.local.standin.reviser import proposal
from imgloop.local.standin.triggers import Triggers

_URL = "https://bedrock-runtime.local"


@dataclass
class Scenario:
    reject_first: int = 0  # the judge says no to the first K images
    fail_generate_first: int = 0  # the image model rejects its first K prompts (as SD3.5 rejects Japanese)
    throttle_first: int = 0  # the first K Bedrock calls of any kind are throttled
    # Models the catalogue lists as EOL are answered as Bedrock answers a retired model, so a local run
    # fails where a run on AWS would; off only to see a retired family's own response shapes.
    honour_lifecycle: bool = True
    # Legacy models are refused as Bedrock refuses them to an account that has not used them lately (every
    # new account); on, the account still has them.
    legacy_access: bool = False
    # Every edit also recolours the whole picture, outside its mask (or region) too, as a careless model
    # might, so that Validate's outside-mask guard can be seen to catch it.
    spill_edits: bool = False
    # Refusals, rejections and throttling aimed at chosen prompts, not at the first calls.
    triggers: Triggers = field(default_factory=Triggers)
    # Each model's requests-per-minute quota, as Bedrock throttles and as Service Quotas lists it.
    quotas: Quotas = field(default_factory=Quotas)


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
    _subjects: Counter[tuple[str, str]] = field(default_factory=Counter)
    _quota: QuotaMeter | None = None

    @property
    def quota(self) -> QuotaMeter:
        """The meter of the scenario's quotas (a test may give the stand-in another scenario between runs)."""
        if self._quota is None or self._quota.quotas is not self.scenario.quotas:
            self._quota = QuotaMeter(self.scenario.quotas)
        return self._quota

    def register(self, events: Any) -> None:
        events.register("before-call.bedrock-runtime.InvokeModel", self._on_invoke_model)
        events.register("before-call.bedrock-runtime.Converse", self._on_converse)
        # The account's applied quotas and AWS's defaults alike are the stand-in's quotas.
        for operation in ("ListServiceQuotas", "ListAWSDefaultServiceQuotas"):
            events.register(f"before-call.service-quotas.{operation}", self._on_list_quotas)

    def calls_of(self, operation: str) -> list[Call]:
        return [c for c in self.calls if c.operation == operation]

    def _admit(self, kind: str, subject: str) -> int | None:
        """None when this call is throttled; else how many calls of its kind reached the model. The
        subject is what the call is about: the prompt, or the requirement."""
        with self._lock:
            self._counts["all"] += 1
            self._subjects[kind, subject] += 1
            if (
                self._counts["all"] <= self.scenario.throttle_first
                or self._subjects[kind, subject] <= self.scenario.triggers.throttle_each
            ):
                return None
            self._counts[kind] += 1
            return self._counts[kind]

    def _record(self, operation: str, params: dict[str, Any]) -> Call:
        model_id = unquote(params["url_path"].split("/model/", 1)[1].rsplit("/", 1)[0])
        call = Call(operation=operation, model_id=model_id, body=json.loads(params["body"] or b"{}"))
        with self._lock:
            self.calls.append(call)
        return call

    def _lifecycle_refusal(self, model_id: str) -> HttpError | None:
        info = lookup(model_id)
        if not self.scenario.honour_lifecycle or info is None:
            return None
        if info.status == "EOL":
            return END_OF_LIFE
        return LEGACY if info.status == "LEGACY" and not self.scenario.legacy_access else None

    def _on_invoke_model(self, params: dict[str, Any], **_: Any) -> Answered:
        call = self._record("InvokeModel", params)
        refusal = self._lifecycle_refusal(call.model_id)
        if refusal is not None:
            return failed(refusal, _URL)
        contract = contract_for(call.model_id)
        violations = contract.check(call.body) if contract else []
        if violations:
            return failed(rejected_body(bedrock_message(violations)), _URL)
        request = ImageRequest.read(call.body)
        if not self.quota.admit(call.model_id):
            return failed(THROTTLED, _URL)
        nth = self._admit("generate", request.prompt)
        if nth is None:
            return failed(THROTTLED, _URL)
        if nth <= self.scenario.fail_generate_first:
            return failed(PROMPT_NOT_ENGLISH, _URL)
        if self.scenario.triggers.refuses(request.prompt):
            if request.family == "amazon":
                return failed(PROMPT_BLOCKED, _URL)  # Nova Canvas refuses a prompt as a bad request
            return ok(invoke_model_output(filtered_response(request.family, request.seed)), _URL)
        if request.edit is not None:
            images = [edit(request.edit, request.prompt, request.image_format, request.seed, self.scenario.spill_edits)]
        else:
            images = [
                draw(request.prompt, request.width, request.height, request.image_format, request.seed + i)
                for i in range(request.count)
            ]
        return ok(invoke_model_output(image_response(request.family, request.seed, images)), _URL)

    def _on_list_quotas(self, params: dict[str, Any], **_: Any) -> Answered:
        return self.quota.listed(params)

    def _on_converse(self, params: dict[str, Any], **_: Any) -> Answered:
        call = self._record("Converse", params)
        refusal = self._lifecycle_refusal(call.model_id)
        if refusal is not None:
            return failed(refusal, _URL)
        oversized = _image_problem(call.body)
        if oversized:
            return failed(rejected_body(oversized), _URL)
        tool = call.body["toolConfig"]["tools"][0]["toolSpec"]["name"]
        kind = "judge" if tool == JUDGE_TOOL else "revise"
        required = requirement(user_text(call.body))
        if not self.quota.admit(call.model_id):
            return failed(THROTTLED, _URL)
        nth = self._admit(kind, required)
        if nth is None:
            return failed(THROTTLED, _URL)
        passed = nth > self.scenario.reject_first and not self.scenario.triggers.rejects(required)
        answer = verdict(call.body, nth, passed) if kind == "judge" else proposal(call.body)
        return ok(tool_use_reply(tool, answer, f"tool-{nth}"), _URL)


def _image_problem(body: dict[str, Any]) -> str | None:
    """Why Converse refuses the call's images (None: it takes them), by its contract: bytes and pixels."""
    limits = converse_images()
    # botocore serialized the body: the image bytes are base64 in it.
    for message in body.get("messages", []):
        for block in message.get("content", []):
            encoded = block.get("image", {}).get("source", {}).get("bytes")
            if not isinstance(encoded, str):
                continue
            data = base64.b64decode(encoded)
            found = probe(data)
            if len(data) > limits["max_bytes"] or (found and max(found.width, found.height) > limits["max_side"]):
                size = f"{found.width}x{found.height}, " if found else ""
                return (
                    f"The model returned the following errors: image exceeds the limits ({size}{len(data):,} bytes; "
                    f"at most {limits['max_side']} px a side and {limits['max_bytes']:,} bytes)"
                )
    return None

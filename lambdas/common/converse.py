"""Calls to any Converse-capable Bedrock model with a forced tool call, and its sampling quirks."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from common.bedrock_errors import error_code, model_call
from common.sections import ConverseConfig

# Claude 3.x and the first Claude 4 releases take temperature and top_p together; later Claude
# models answer "temperature and top_p cannot both be specified for this model".
_CLAUDE_BOTH_KNOBS = re.compile(r"claude-(3|sonnet-4-2025|opus-4-2025|instant|v2)")


# How Bedrock words a refusal of forced tool use (tool_choice, toolChoice, "tool choice").
_NO_FORCED_TOOL = re.compile(r"tool.?choice", re.IGNORECASE)


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    schema: dict[str, Any]


@dataclass
class ToolReply:
    """What the model put in the tool call (None when it answered without one) and any prose."""

    data: dict[str, Any] | None
    text: str
    notes: list[str] = field(default_factory=list)
    # The call's tokens as Bedrock reported them (its usage), which price it.
    input_tokens: int = 0
    output_tokens: int = 0


def sampling(config: ConverseConfig) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """inferenceConfig, additionalModelRequestFields and notes on anything not sent as given."""
    notes: list[str] = []
    inference: dict[str, Any] = {"maxTokens": config.max_tokens}
    if config.temperature is not None:
        inference["temperature"] = config.temperature
    claude = "claude" in config.model_id.lower()
    if config.top_p is not None:
        if claude and "temperature" in inference and not _CLAUDE_BOTH_KNOBS.search(config.model_id):
            notes.append(f"top_p={config.top_p} not sent: {config.model_id} takes temperature or top_p, not both")
        else:
            inference["topP"] = config.top_p
    extra: dict[str, Any] = {}
    if config.top_k is not None:
        if claude:
            extra["top_k"] = config.top_k
        elif "nova" in config.model_id.lower():
            extra["inferenceConfig"] = {"topK": config.top_k}
        else:
            notes.append(f"top_k={config.top_k} not sent: no known way to pass it to {config.model_id}")
    return inference, extra, notes


def ask_with_tool(
    bedrock: Any,
    config: ConverseConfig,
    system: str,
    content: list[dict[str, Any]],
    tool: ToolSpec,
    tags: Mapping[str, str] | None = None,
) -> ToolReply:
    """The model's tool call; tags (common.names.CallTags) go with the call as its requestMetadata."""
    inference, extra, notes = sampling(config)
    request: dict[str, Any] = {
        "modelId": config.model_id,
        "system": [{"text": system}],
        "messages": [{"role": "user", "content": content}],
        "inferenceConfig": inference,
        "toolConfig": {
            "tools": [
                {
                    "toolSpec": {
                        "name": tool.name,
                        "description": tool.description,
                        "inputSchema": {"json": tool.schema},
                    }
                }
            ],
            "toolChoice": {"tool": {"name": tool.name}},
        },
    }
    if extra:
        request["additionalModelRequestFields"] = extra
    if tags:
        request["requestMetadata"] = dict(tags)
    with model_call(config.model_id):
        try:
            response = bedrock.converse(**request)
        except ClientError as error:
            # Some newer models refuse forced tool use; offer the tool and require it in the rubric.
            if error_code(error) != "ValidationException" or not _NO_FORCED_TOOL.search(str(error)):
                raise
            request["toolConfig"]["toolChoice"] = {"auto": {}}
            notes.append(f"{config.model_id} does not take a forced tool call; the tool was offered instead")
            response = bedrock.converse(**request)
    blocks = response.get("output", {}).get("message", {}).get("content", []) or []
    text = " ".join(b["text"] for b in blocks if isinstance(b.get("text"), str)).strip()
    usage = response.get("usage") or {}
    tokens = {"input_tokens": int(usage.get("inputTokens", 0)), "output_tokens": int(usage.get("outputTokens", 0))}
    for block in blocks:
        use = block.get("toolUse")
        if isinstance(use, dict) and use.get("name") == tool.name and isinstance(use.get("input"), dict):
            return ToolReply(data=use["input"], text=text, notes=notes, **tokens)
    return ToolReply(data=None, text=text, notes=notes, **tokens)

"""The tokens a judge or reviser call costs: Claude's rule for images, and the sizes each image family
draws; the text of a Converse request or reply at a fixed number of characters a token.

Claude (https://docs.claude.com/en/docs/vision): an image costs about width*height/750 tokens. An image
whose long edge is over 1568 px, or that would cost over ~1,600 tokens (~1.15 megapixels), is first scaled
down, keeping its aspect ratio, until it fits; the tokens are then those of the scaled image.
"""

import base64
import io
import json
import math
from dataclasses import dataclass
from typing import Any

from PIL import Image

PIXELS_PER_TOKEN = 750
MAX_LONG_EDGE = 1568
MAX_TOKENS = 1600
# Anthropic's tool-use system prompt when a tool is forced (tool_choice "tool"/"any"), Claude 4 models.
TOOL_SYSTEM_TOKENS = 313
CHARS_PER_TOKEN = 4  # an estimate for English text and JSON


def scale_for_judge(width: int, height: int) -> float:
    """The factor Claude scales an image by before it looks at it (1.0: used as sent)."""
    return min(1.0, MAX_LONG_EDGE / max(width, height), math.sqrt(MAX_TOKENS * PIXELS_PER_TOKEN / (width * height)))


def judge_image_tokens(width: int, height: int) -> int:
    scale = scale_for_judge(width, height)
    return math.ceil(int(width * scale) * int(height * scale) / PIXELS_PER_TOKEN)


@dataclass(frozen=True)
class SizeRow:
    family: str
    size: tuple[int, int]
    tokens: int
    downscaled: bool  # the model scales it down: the extra pixels cost upload and latency, not tokens

    @property
    def label(self) -> str:
        return f"{self.size[0]}x{self.size[1]}"


def family_sizes() -> dict[str, list[tuple[int, int]]]:
    """The sizes the project's image families draw, read from their adapters."""
    from common.generators.amazon import TITAN_SIZES
    from common.generators.sdxl import SIZES as SDXL_SIZES
    from common.generators.stability import SIZES as STABILITY_SIZES

    return {
        "Stability (SD3.5 Large, Stable Image)": sorted(set(STABILITY_SIZES.values())),
        "SDXL 1.0": sorted(SDXL_SIZES),
        "Titan Image G1": sorted(TITAN_SIZES),
        # Nova Canvas takes any size 320-4096 px (multiples of 16, at most 4.19 MP): its default and extremes.
        "Nova Canvas (examples)": [(1024, 1024), (1280, 720), (2048, 2048), (4096, 1024)],
    }


def size_table() -> list[SizeRow]:
    rows = []
    for family, sizes in family_sizes().items():
        for width, height in sizes:
            rows.append(
                SizeRow(family, (width, height), judge_image_tokens(width, height), scale_for_judge(width, height) < 1)
            )
    return rows


def _texts(blocks: list[dict[str, Any]]) -> str:
    return "".join(b["text"] for b in blocks if isinstance(b.get("text"), str))


def converse_input_tokens(body: dict[str, Any]) -> int:
    """Claude's input tokens for a Converse request: each image by its size, the text and the tool schema."""
    tokens = 0
    text = _texts(body.get("system", []))
    for message in body.get("messages", []):
        for block in message.get("content", []):
            image = block.get("image")
            if isinstance(image, dict):
                data = base64.b64decode(image.get("source", {}).get("bytes", ""))
                with Image.open(io.BytesIO(data)) as opened:
                    tokens += judge_image_tokens(*opened.size)
            elif isinstance(block.get("text"), str):
                text += block["text"]
    if "toolConfig" in body:
        text += json.dumps(body["toolConfig"]["tools"])
        tokens += TOOL_SYSTEM_TOKENS
    return tokens + math.ceil(len(text) / CHARS_PER_TOKEN)


def converse_output_tokens(parsed: dict[str, Any]) -> int:
    content = parsed.get("output", {}).get("message", {}).get("content", [])
    text = "".join(json.dumps(b.get("toolUse", {}).get("input", {})) + b.get("text", "") for b in content)
    return math.ceil(len(text) / CHARS_PER_TOKEN)

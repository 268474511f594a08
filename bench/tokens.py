"""The image tokens a judge call costs: Claude's rule, and the sizes each image family draws.

Claude (https://docs.claude.com/en/docs/vision): an image costs about width*height/750 tokens. An image
whose long edge is over 1568 px, or that would cost over ~1,600 tokens (~1.15 megapixels), is first scaled
down, keeping its aspect ratio, until it fits; the tokens are then those of the scaled image.
"""

import math
from dataclasses import dataclass

PIXELS_PER_TOKEN = 750
MAX_LONG_EDGE = 1568
MAX_TOKENS = 1600


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

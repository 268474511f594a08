"""Stability AI's current Bedrock API: SD3.5 Large, SD3 Large, Stable Image Core and Ultra."""

from typing import Any, ClassVar, Literal

from pydantic import Field

from common.contracts import family_max
from common.generators.base import (
    EditInput,
    GenerationResult,
    ImageGenerator,
    RefusedGeneration,
    image_or_refusal,
    nearest_shape,
)

AspectRatio = Literal["16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21"]
# The pixel size SD3.5 Large draws for each aspect ratio (about one megapixel).
SIZES: dict[str, tuple[int, int]] = {
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

GUIDELINES = """\
Write for Stable Diffusion 3.5: plain natural-language sentences, not keyword lists or weights.
Order the description: style, then subject and action, then composition, then lighting and colour,
then technical qualities (lens, detail, resolution).
Text that must appear in the image goes in double quotes and stays short.
Everything that must NOT appear goes in the negative prompt, never as "no X" in the prompt.
Write in English: translate any other language."""


def extension_of(output_format: str) -> str:
    return "png" if output_format == "png" else "jpg"


def stability_answer(body: dict[str, Any], seed: int, output_format: str) -> GenerationResult:
    """The answer of every Stability model on Bedrock: seeds, finish_reasons and base64 images."""
    seeds = body.get("seeds") or [seed]
    used_seed = int(seeds[0])
    reasons = body.get("finish_reasons") or [None]
    if reasons[0]:
        # A filtered generation still answers HTTP 200; the reason is the only sign of it.
        return RefusedGeneration(reason=f"model refused: {reasons[0]}", seed=used_seed)
    images = body.get("images") or [None]
    content_type = "image/png" if output_format == "png" else "image/jpeg"
    return image_or_refusal(images[0], used_seed, content_type, extension_of(output_format))


class StabilityOutput(ImageGenerator):
    """What every Stability model on Bedrock shares: the output format and the shape of its answer."""

    output_format: Literal["png", "jpeg"] = "png"

    def read_response(self, body: dict[str, Any], seed: int) -> GenerationResult:
        return stability_answer(body, seed, self.output_format)

    @property
    def extension(self) -> str:
        return extension_of(self.output_format)


class StabilityGenerator(StabilityOutput):
    family = "stability"
    model_pattern = r"^((us|eu|apac)\.)?stability\.(sd3|stable-image-(ultra|core))"
    max_prompt_chars = 10000
    max_seed = int(family_max(family, "seed", every=True))
    prompt_guidelines = GUIDELINES
    body_fields: ClassVar[dict[str, str]] = {
        "seed": "seed",
        "aspect_ratio": "aspect_ratio",
        "output_format": "output_format",
    }

    model_id: str = Field(pattern=model_pattern)
    aspect_ratio: AspectRatio = "1:1"
    seed: int = Field(default=0, ge=0, le=int(family_max(family, "seed")))

    def modes(self) -> frozenset[str]:
        # SD3 and SD3.5 Large also draw from a source image; Stable Image Core and Ultra do not here.
        return frozenset({"text-to-image", "image-to-image"} if ".sd3" in self.model_id else {"text-to-image"})

    def request_body(
        self, prompt: str, negative_prompt: str, seed: int, edit: EditInput | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"prompt": prompt}
        if edit is None:
            body |= {"mode": "text-to-image", "aspect_ratio": self.aspect_ratio}
        else:
            # The output takes the source's aspect ratio: aspect_ratio belongs to text-to-image only.
            body |= {"mode": "image-to-image", "image": edit.image, "strength": edit.strength}
        body |= {"output_format": self.output_format, "seed": seed}
        if negative_prompt:
            body["negative_prompt"] = negative_prompt
        return body

    @property
    def size(self) -> tuple[int, int]:
        return SIZES[self.aspect_ratio]

    @classmethod
    def sized(cls, size: tuple[int, int]) -> dict[str, Any]:
        return {"aspect_ratio": nearest_shape(size, SIZES)}

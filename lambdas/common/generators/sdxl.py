"""Stable Diffusion XL 1.0: weighted text prompts, cfg_scale and steps, a fixed set of sizes."""

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from common.contracts import family_max
from common.generators.base import EditInput, GenerationResult, ImageGenerator, RefusedGeneration, image_or_refusal

# The sizes SDXL 1.0 on Bedrock accepts (width, height).
SIZES = {
    (1024, 1024),
    (1152, 896),
    (1216, 832),
    (1344, 768),
    (1536, 640),
    (640, 1536),
    (768, 1344),
    (832, 1216),
    (896, 1152),
}
StylePreset = Literal[
    "3d-model",
    "analog-film",
    "anime",
    "cinematic",
    "comic-book",
    "digital-art",
    "enhance",
    "fantasy-art",
    "isometric",
    "line-art",
    "low-poly",
    "modeling-compound",
    "neon-punk",
    "origami",
    "photographic",
    "pixel-art",
    "tile-texture",
]

GUIDELINES = """\
Write for Stable Diffusion XL: comma-separated concepts, the most important first.
Use specific adjectives; name the composition, lighting, style and mood; name art styles or
artists where they help; add quality keywords (highly detailed, sharp focus, 8k).
Give weight to a key concept with (keyword:1.2). Put unwanted elements in the negative prompt.
Write in English: translate any other language. Avoid words content filters flag (e.g. "execution")."""


class SdxlGenerator(ImageGenerator):
    family = "sdxl"
    model_pattern = r"^stability\.stable-diffusion-xl"
    max_prompt_chars = 2000
    max_seed = int(family_max(family, "seed", every=True))
    prompt_guidelines = GUIDELINES
    body_fields: ClassVar[dict[str, str]] = {
        "seed": "seed",
        "cfg_scale": "cfg_scale",
        "steps": "steps",
        "style_preset": "style_preset",
    }

    model_id: str = Field(pattern=model_pattern)
    cfg_scale: float = Field(default=7, ge=0, le=family_max(family, "cfg_scale"))
    steps: int = Field(default=30, ge=10, le=int(family_max(family, "steps")))
    width: int = Field(default=1024, ge=1, le=4096)
    height: int = Field(default=1024, ge=1, le=4096)
    seed: int = Field(default=0, ge=0, le=int(family_max(family, "seed")))
    style_preset: StylePreset | None = None

    @model_validator(mode="after")
    def _size(self) -> "SdxlGenerator":
        if (self.width, self.height) not in SIZES:
            allowed = ", ".join(f"{w}x{h}" for w, h in sorted(SIZES))
            raise ValueError(f"width x height {self.width}x{self.height} is not an SDXL size ({allowed})")
        return self

    def request_body(
        self, prompt: str, negative_prompt: str, seed: int, edit: EditInput | None = None
    ) -> dict[str, Any]:
        text_prompts = [{"text": prompt, "weight": 1.0}]
        if negative_prompt:
            text_prompts.append({"text": negative_prompt, "weight": -1.0})
        body: dict[str, Any] = {
            "text_prompts": text_prompts,
            "cfg_scale": self.cfg_scale,
            "steps": self.steps,
            "width": self.width,
            "height": self.height,
            "seed": seed,
        }
        if self.style_preset:
            body["style_preset"] = self.style_preset
        return body

    def read_response(self, body: dict[str, Any], seed: int) -> GenerationResult:
        artifacts = body.get("artifacts") or []
        if not artifacts:
            return RefusedGeneration(
                reason=f"model answered with no image ({body.get('result', 'no result')})", seed=seed
            )
        artifact = artifacts[0]
        used_seed = int(artifact.get("seed", seed))
        finish = artifact.get("finishReason", "SUCCESS")
        if finish != "SUCCESS":
            # CONTENT_FILTERED and ERROR come back with HTTP 200 and a blurred or empty image.
            return RefusedGeneration(reason=f"model refused: finishReason {finish}", seed=used_seed)
        return image_or_refusal(artifact.get("base64"), used_seed, "image/png", "png")

    @property
    def extension(self) -> str:
        return "png"

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)

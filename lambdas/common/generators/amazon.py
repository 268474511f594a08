"""Amazon Nova Canvas and Titan Image Generator G1 v1/v2: the TEXT_IMAGE task of one request family."""

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from common.contracts import family_max
from common.generators.base import EditInput, GenerationResult, ImageGenerator, RefusedGeneration, image_or_refusal

TITAN_SIZES = {
    (1024, 1024), (768, 768), (512, 512), (768, 1152), (384, 576), (1152, 768), (576, 384), (768, 1280),
    (384, 640), (1280, 768), (640, 384), (896, 1152), (448, 576), (1152, 896), (576, 448), (768, 1408),
    (384, 704), (1408, 768), (704, 384), (640, 1408), (320, 704), (1408, 640), (704, 320), (1152, 640),
    (1173, 640),
}  # fmt: skip

NOVA_GUIDELINES = """\
Write for Amazon Nova Canvas: an image caption, not a command ("a photo of ...", never "draw ...").
Describe the subject, the environment, pose or action, lighting, camera position and framing, and
the visual style, the important elements first. Never use negation words (no, not, without) in the
prompt: put unwanted elements in the negative prompt instead. Write in English: translate any other
language. Stay within 1024 characters."""

TITAN_GUIDELINES = """\
Write for Amazon Titan Image Generator: a short image caption, not a command, the subject first,
then setting, lighting and style. Never use negation words in the prompt: put unwanted elements in
the negative prompt. Write in English: translate any other language, since Titan does not understand
others. Stay within 512 characters."""


class AmazonImageGenerator(ImageGenerator):
    """The TEXT_IMAGE task that Nova Canvas and Titan Image share; each checks its own sizes."""

    body_fields: ClassVar[dict[str, str]] = {
        "seed": "imageGenerationConfig.seed",
        "cfg_scale": "imageGenerationConfig.cfgScale",
        "quality": "imageGenerationConfig.quality",
        "width": "imageGenerationConfig.width",
        "height": "imageGenerationConfig.height",
    }

    width: int = Field(default=1024, ge=1, le=4096)
    height: int = Field(default=1024, ge=1, le=4096)
    cfg_scale: float = Field(default=6.5, ge=1.1, le=10)
    quality: Literal["standard", "premium"] = "standard"

    def request_body(
        self, prompt: str, negative_prompt: str, seed: int, edit: EditInput | None = None
    ) -> dict[str, Any]:
        text: dict[str, Any] = {"text": prompt}
        if len(negative_prompt) >= 3:  # the API's minimum; shorter is no negative prompt at all
            text["negativeText"] = negative_prompt
        return {
            "taskType": "TEXT_IMAGE",
            "textToImageParams": text,
            "imageGenerationConfig": {
                "numberOfImages": 1,
                "width": self.width,
                "height": self.height,
                "cfgScale": self.cfg_scale,
                "quality": self.quality,
                "seed": seed,
            },
        }

    def read_response(self, body: dict[str, Any], seed: int) -> GenerationResult:
        if body.get("error"):
            # Content filtering answers HTTP 200 with an error text and no images.
            return RefusedGeneration(reason=f"model refused: {body['error']}", seed=seed)
        images = body.get("images") or [None]
        return image_or_refusal(images[0], seed, "image/png", "png")

    @property
    def extension(self) -> str:
        return "png"

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


class NovaCanvasGenerator(AmazonImageGenerator):
    family = "nova-canvas"
    model_pattern = r"^amazon\.nova-canvas"
    max_prompt_chars = 1024
    max_seed = int(family_max(family, "imageGenerationConfig.seed", every=True))
    prompt_guidelines = NOVA_GUIDELINES

    model_id: str = Field(pattern=model_pattern)
    seed: int = Field(default=0, ge=0, le=max_seed)

    @model_validator(mode="after")
    def _size(self) -> "NovaCanvasGenerator":
        w, h = self.width, self.height
        if not (320 <= w <= 4096 and 320 <= h <= 4096) or w % 16 or h % 16:
            raise ValueError("width and height must be 320-4096 and divisible by 16")
        if w * h > 4194304 or max(w, h) > 4 * min(w, h):
            raise ValueError("width x height must be at most 4,194,304 pixels with an aspect ratio within 1:4")
        return self


class TitanGenerator(AmazonImageGenerator):
    family = "titan-image"
    model_pattern = r"^amazon\.titan-image-generator"
    max_prompt_chars = 512
    max_seed = int(family_max(family, "imageGenerationConfig.seed", every=True))
    prompt_guidelines = TITAN_GUIDELINES

    model_id: str = Field(pattern=model_pattern)
    seed: int = Field(default=0, ge=0, le=max_seed)

    @model_validator(mode="after")
    def _size(self) -> "TitanGenerator":
        if (self.width, self.height) not in TITAN_SIZES:
            allowed = ", ".join(f"{w}x{h}" for w, h in sorted(TITAN_SIZES))
            raise ValueError(f"width x height {self.width}x{self.height} is not a Titan size ({allowed})")
        return self

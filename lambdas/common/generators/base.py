"""What every image-model family provides. A family is one pydantic model: its request parameters
(checked once, when the request is parsed) and the request body and response shape built from them,
so the handlers call `generator.request_body(...)` on whatever family the request named."""

import base64
import binascii
import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


@dataclass(frozen=True)
class GeneratedImage:
    data: bytes
    seed: int
    content_type: str
    extension: str


@dataclass(frozen=True)
class RefusedGeneration:
    """The model answered but made no image (content filter, unsupported language...)."""

    reason: str
    seed: int


GenerationResult = GeneratedImage | RefusedGeneration


def image_or_refusal(encoded: object, seed: int, content_type: str, extension: str) -> GenerationResult:
    """The base64 image of a response, or why there is none: a refusal, never a crash."""
    if not encoded:
        return RefusedGeneration(reason="model answered with no image", seed=seed)
    try:
        data = base64.b64decode(encoded, validate=True)  # type: ignore[arg-type]
    except (binascii.Error, TypeError, ValueError):
        return RefusedGeneration(reason="model answered with an image that is not base64", seed=seed)
    return GeneratedImage(data=data, seed=seed, content_type=content_type, extension=extension)


class ImageGenerator(BaseModel, ABC):
    """One Bedrock request family: its parameters, request body, response shape and prompt style."""

    # Strict like the rest of the request: "3" is not 3, as in the API's JSON schema.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    family: ClassVar[str]
    # The model ids this family serves (a regular expression the HTTP API's schema uses as well).
    model_pattern: ClassVar[str]
    max_prompt_chars: ClassVar[int]
    max_seed: ClassVar[int]
    prompt_guidelines: ClassVar[str]

    model_id: str
    seed: int

    @classmethod
    def serves(cls, model_id: str) -> bool:
        return re.match(cls.model_pattern, model_id) is not None

    @abstractmethod
    def request_body(self, prompt: str, negative_prompt: str, seed: int) -> dict[str, Any]: ...

    @abstractmethod
    def read_response(self, body: dict[str, Any], seed: int) -> GenerationResult: ...

    @property
    @abstractmethod
    def extension(self) -> str: ...

    @classmethod
    def fit(cls, text: str, limit: int | None = None) -> str:
        """The text cut to the model's limit (or a lower one) at the last sentence or comma break."""
        limit = min(limit or cls.max_prompt_chars, cls.max_prompt_chars)
        if len(text) <= limit:
            return text
        cut = text[:limit]
        boundary = max(cut.rfind(". "), cut.rfind(", "), cut.rfind("。"), cut.rfind("、"))
        return cut[: boundary + 1].rstrip(" ") if boundary > limit // 4 else cut.rstrip()

    def choose_seed(self, rng: random.Random) -> int:
        # 0 means "any seed": pick one so that the seed actually used can be recorded.
        return self.seed if self.seed else rng.randint(1, self.max_seed)

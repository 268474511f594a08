"""What every image-model family provides. A family is one pydantic model: its request parameters
(checked once, when the request is parsed) and the request body and response shape built from them,
so the handlers call `generator.request_body(...)` on whatever family the request named."""

import base64
import binascii
import math
import random
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from pydantic import ConfigDict, field_validator, model_validator

from common.contracts import contract_for
from common.errors import InvalidInput, shown
from common.model import Model
from common.sections import valid_model_id


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
# The parameters by which a family sets its image's size.
SIZE_FIELDS = frozenset({"width", "height", "aspect_ratio"})


@dataclass(frozen=True)
class EditInput:
    """What an edit sends besides the prompt: the source (and mask) as base64, and the mode's settings."""

    image: str
    mask: str | None = None
    strength: float | None = None
    search_prompt: str | None = None
    margins: dict[str, int] | None = None


def image_or_refusal(encoded: object, seed: int, content_type: str, extension: str) -> GenerationResult:
    """The base64 image of a response, or why there is none: a refusal, never a crash."""
    if not encoded:
        return RefusedGeneration(reason="model answered with no image", seed=seed)
    try:
        data = base64.b64decode(encoded, validate=True)  # type: ignore[arg-type]
    except (binascii.Error, TypeError, ValueError):
        return RefusedGeneration(reason="model answered with an image that is not base64", seed=seed)
    return GeneratedImage(data=data, seed=seed, content_type=content_type, extension=extension)


class ImageGenerator(Model, ABC):
    """One Bedrock request family: its parameters, request body, response shape and prompt style."""

    # Strict like the rest of the request: "3" is not 3, as in the API's JSON schema.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    family: ClassVar[str]
    # The model ids this family serves (a regular expression the HTTP API's schema uses as well).
    model_pattern: ClassVar[str]
    max_prompt_chars: ClassVar[int]
    max_seed: ClassVar[int]  # the highest seed every model of the family takes
    prompt_guidelines: ClassVar[str]
    # The parameters that go into the body as they are, by the body field they fill: Check input holds
    # them to the contract of the model the request names (common.contracts).
    body_fields: ClassVar[dict[str, str]] = {}

    model_id: str
    seed: int

    @field_validator("model_id")
    @classmethod
    def _bedrock_id(cls, value: str) -> str:
        # The family's pattern says whose model it is; this, that it is an id Bedrock could take at all.
        return valid_model_id(value)

    @model_validator(mode="after")
    def _within_contract(self) -> Self:
        # InvalidInput, not ValueError: pydantic passes it through, so the message names the parameter
        # and the model rather than the union's branch.
        contract = contract_for(self.model_id)
        if contract is None:
            return self  # an application profile or provisioned model: its model is not known here
        for name, path in self.body_fields.items():
            value = getattr(self, name)
            if value is None:
                continue
            if contract.rule(path) is None:
                raise InvalidInput(f"generator.{name}: {shown(self.model_id)} takes no {name}")
            broken = contract.check_value(path, value)
            if broken:
                raise InvalidInput(
                    f"generator.{name}: {shown(value)} is outside {broken[0].rule}, what {shown(self.model_id)} takes"
                )
        return self

    @classmethod
    def serves(cls, model_id: str) -> bool:
        return re.match(cls.model_pattern, model_id) is not None

    def modes(self) -> frozenset[str]:
        """The modes this model offers (docs/editing.md)."""
        return frozenset({"text-to-image"})

    def source_problem(self, width: int, height: int) -> str | None:
        """Why this model cannot edit a source image of this size (None: it can), by its contract."""
        contract = contract_for(self.model_id)
        return contract.image.problem(width, height) if contract and contract.image else None

    @abstractmethod
    def request_body(
        self, prompt: str, negative_prompt: str, seed: int, edit: EditInput | None = None
    ) -> dict[str, Any]: ...

    @abstractmethod
    def read_response(self, body: dict[str, Any], seed: int) -> GenerationResult: ...

    @property
    @abstractmethod
    def extension(self) -> str: ...

    @property
    @abstractmethod
    def size(self) -> tuple[int, int] | None:
        """The image's width and height in pixels (None: an edit's size follows its source)."""

    @classmethod
    def sized(cls, size: tuple[int, int]) -> dict[str, Any]:
        """The parameters that ask this family for an image nearest to `size` (none: its default size)."""
        return {}

    @classmethod
    def adopt(cls, model_id: str, retired: "ImageGenerator", drawn: bool = True) -> tuple[Self, str]:
        """This family's parameters for a request written for a retired model of another family: the
        seed and the size the request gave carry over as far as this family allows (an edit's size is
        its source's, `drawn` False); what has no counterpart is named."""
        seed = retired.seed if retired.seed <= cls.max_seed else 0
        size = retired.size if retired.model_fields_set & SIZE_FIELDS else None
        sized = cls.sized(size) if size and drawn else {}
        adopted = cls.model_validate({"model_id": model_id, "seed": seed, **sized})
        notes = []
        if size and sized:
            notes.append(f"{size[0]}x{size[1]} became {', '.join(f'{name} {value}' for name, value in sized.items())}")
        elif size:
            notes.append(
                f"{size[0]}x{size[1]} not used: the result takes the {'source image' if not drawn else 'model'}'s size"
            )
        if seed != retired.seed:
            notes.append(f"seed {retired.seed} is out of range and became 0 (any seed)")
        dropped = sorted(retired.model_fields_set - {"model_id", "seed", *SIZE_FIELDS} - set(cls.model_fields))
        if dropped:
            notes.append(f"{', '.join(dropped)} dropped: {model_id} has no such parameter")
        return adopted, "; ".join(notes) or "parameters kept"

    @classmethod
    def fit(cls, text: str, limit: int | None = None) -> str:
        """The text cut to the model's limit (or a lower one) at the last sentence or comma break."""
        limit = min(limit or cls.max_prompt_chars, cls.max_prompt_chars)
        if len(text) <= limit:
            return text
        cut = text[:limit]
        boundary = max(cut.rfind(". "), cut.rfind(", "), cut.rfind("。"), cut.rfind("、"))
        return cut[: boundary + 1].rstrip(" ") if boundary > limit // 4 else cut.rstrip()

    def choose_seed(self, rng: random.Random, image: int = 0) -> int:
        """The seed of the request's image number `image` (0 for the first attempt's first candidate).

        0 means "any seed": one is picked so that the seed actually used can be recorded. A given seed is the
        first image's, and every later image steps from it by a prime stride, wrapping within the family's
        range: the same request makes the same sequence, and no two of its images share a seed, so a model
        is never paid to draw the same picture again."""
        if not self.seed:
            return rng.randint(1, self.max_seed)
        return 1 + (self.seed - 1 + image * SEED_STRIDE) % self.max_seed


# A prime larger than every family's seed range is coprime with each range's size, so stepping by it visits
# every seed of the range once before any repeats.
SEED_STRIDE = 4_294_967_311


def nearest_shape(size: tuple[int, int], shapes: dict[str, tuple[int, int]]) -> str:
    """The name of the shape whose aspect ratio is nearest to the size's (by log ratio, so 2:1 and 1:2
    are as far from 1:1)."""
    want = math.log(size[0] / size[1])
    return min(shapes, key=lambda name: abs(math.log(shapes[name][0] / shapes[name][1]) - want))

"""Stability AI's Image Services on Bedrock: inpaint, outpaint, search-and-replace and erase. One model
id per service and one subscription for all; each takes the source image (and mask) as base64 in a
flat JSON body and answers in SD3.5's shape. They are invoked through the `us.` cross-region profile."""

import re
from typing import Any, ClassVar

from pydantic import Field

from common.contracts import family_max
from common.generators.base import EditInput
from common.generators.stability import StabilityOutput

# Each service's model name and the mode it serves.
_SERVICES = {
    "stable-image-inpaint": "inpaint",
    "stable-outpaint": "outpaint",
    "stable-image-search-replace": "search-replace",
    "stable-image-erase-object": "erase",
}
# The model each edit mode runs on when the request names none (the services run through profiles).
SERVICE_MODELS: dict[str, str] = {mode: f"us.stability.{service}-v1:0" for service, mode in _SERVICES.items()}

GUIDELINES = """\
Write for a Stability AI image edit: describe what the edited region (or the grown canvas) must show,
in plain natural-language sentences, as it should look in the finished picture; the rest of the
image is kept. Put what must not appear in the negative prompt. Write in English: translate any
other language."""


class StabilityEditGenerator(StabilityOutput):
    family = "stability-edit"
    model_pattern = r"^((us|eu|apac)\.)?stability\.(" + "|".join(_SERVICES) + ")"
    max_prompt_chars = 10000
    max_seed = int(family_max(family, "seed", every=True))
    prompt_guidelines = GUIDELINES
    # Which service takes grow_mask (and how far) and creativity is each service's contract's to say.
    body_fields: ClassVar[dict[str, str]] = {
        "seed": "seed",
        "output_format": "output_format",
        "grow_mask": "grow_mask",
        "creativity": "creativity",
    }

    model_id: str = Field(pattern=model_pattern)
    seed: int = Field(default=0, ge=0, le=int(family_max(family, "seed")))
    grow_mask: int | None = Field(default=None, ge=0, le=int(family_max(family, "grow_mask")))
    creativity: float | None = Field(default=None, ge=0, le=family_max(family, "creativity"))

    @property
    def service(self) -> str:
        found = re.search("|".join(_SERVICES), self.model_id)
        assert found is not None  # the model_id pattern names a service
        return _SERVICES[found.group(0)]

    def modes(self) -> frozenset[str]:
        return frozenset({self.service})

    def request_body(
        self, prompt: str, negative_prompt: str, seed: int, edit: EditInput | None = None
    ) -> dict[str, Any]:
        assert edit is not None  # the input check lets only this service's mode reach it
        body: dict[str, Any] = {"image": edit.image, "seed": seed, "output_format": self.output_format}
        if self.service != "erase":
            body["prompt"] = prompt
        if self.service in ("inpaint", "search-replace") and negative_prompt:
            body["negative_prompt"] = negative_prompt
        if edit.mask is not None:
            body["mask"] = edit.mask
        if edit.search_prompt is not None:
            body["search_prompt"] = edit.search_prompt
        body |= edit.margins or {}
        if self.grow_mask is not None:
            body["grow_mask"] = self.grow_mask
        if self.creativity is not None:
            body["creativity"] = self.creativity
        return body

    @property
    def size(self) -> None:
        return None

"""Image-model families: a discriminated union of one model per family, tagged by the model id.

The model id is matched against each family's pattern exactly once, when the request is parsed; from
then on the generator is a typed `StabilityGenerator`, `SdxlGenerator`, ... Adding a family is one new
module listed in `FAMILIES`."""

from typing import Annotated, Any

from pydantic import Discriminator, Tag

from common.generators.amazon import NovaCanvasGenerator, TitanGenerator
from common.generators.base import ImageGenerator
from common.generators.sdxl import SdxlGenerator
from common.generators.stability import StabilityGenerator
from common.generators.stability_edit import SERVICE_MODELS, StabilityEditGenerator

__all__ = ["FAMILIES", "SERVICE_MODELS", "GeneratorConfig", "default_model", "family_of", "offered_modes"]

FAMILIES: tuple[type[ImageGenerator], ...] = (
    StabilityGenerator,
    StabilityEditGenerator,
    SdxlGenerator,
    NovaCanvasGenerator,
    TitanGenerator,
)


def default_model(mode: str, configured: str) -> str:
    """The image model a request of this mode runs on when it names none: the deployment's, or the
    edit service that serves the mode."""
    return SERVICE_MODELS.get(mode, configured)


def family_of(model_id: object) -> type[ImageGenerator] | None:
    if not isinstance(model_id, str):
        return None
    return next((family for family in FAMILIES if family.serves(model_id)), None)


def offered_modes(model_id: str) -> frozenset[str]:
    """The modes a model offers (none if no family serves it)."""
    family = family_of(model_id)
    return family.model_validate({"model_id": model_id}).modes() if family else frozenset()


def _tag(value: Any) -> str | None:
    model_id = value.get("model_id") if isinstance(value, dict) else getattr(value, "model_id", None)
    family = family_of(model_id)
    return family.family if family else None


GeneratorConfig = Annotated[
    Annotated[StabilityGenerator, Tag(StabilityGenerator.family)]
    | Annotated[StabilityEditGenerator, Tag(StabilityEditGenerator.family)]
    | Annotated[SdxlGenerator, Tag(SdxlGenerator.family)]
    | Annotated[NovaCanvasGenerator, Tag(NovaCanvasGenerator.family)]
    | Annotated[TitanGenerator, Tag(TitanGenerator.family)],
    Discriminator(
        _tag,
        custom_error_type="unknown_image_family",
        custom_error_message=(
            "must name a model of a supported image family (" + ", ".join(family.family for family in FAMILIES) + ")"
        ),
    ),
]

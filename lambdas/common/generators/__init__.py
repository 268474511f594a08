"""Image-model families, chosen by model id. Adding a family is one new module listed here."""

from common.errors import InvalidInput, shown
from common.generators import amazon, sdxl, stability
from common.generators.base import ImageFamily

FAMILIES: tuple[ImageFamily, ...] = (stability.FAMILY, sdxl.FAMILY, amazon.NOVA_CANVAS, amazon.TITAN)


def family_for(model_id: str) -> ImageFamily:
    for family in FAMILIES:
        if family.serves(model_id):
            return family
    known = ", ".join(f.name for f in FAMILIES)
    raise InvalidInput(
        f"generator.model_id: '{shown(model_id)}' belongs to no supported image family (supported: {known})"
    )

"""The seed systems' flat events (S1, S2, S3), mapped onto the structured request: one table.

Each row is a key family: its prefix, the request section it fills, the fields it may name, and the
model whose rules its fields follow. Where `implies` names a section, using any key of the family also
picks that model for that section when the event names none (S2 and S3 fixed their models in code)."""

from dataclasses import dataclass
from typing import Any

from common.errors import InvalidInput
from common.names import SD35_LARGE

SAMPLING = ("temperature", "top_p", "top_k", "max_tokens")


@dataclass(frozen=True)
class KeyFamily:
    prefix: str
    section: str  # "" for a top-level field
    names: tuple[str, ...]
    model: str | None = None  # the model whose family's rules these fields follow
    implies: str = ""  # the section whose model the keys pick, if the event names none
    # A key whose name differs from the field's: {flat suffix: field}.
    renamed: tuple[tuple[str, str], ...] = ()

    def flat_keys(self) -> dict[str, str]:
        return {f"{self.prefix}{name}": name for name in self.names} | {
            f"{self.prefix}{suffix}": name for suffix, name in self.renamed
        }


SD35 = SD35_LARGE
SDXL = "stability.stable-diffusion-xl-v1"
NOVA_CANVAS = "amazon.nova-canvas-v1:0"
NOVA_PRO = "us.amazon.nova-pro-v1:0"

KEY_FAMILIES: tuple[KeyFamily, ...] = (
    KeyFamily("output_s3_", "output", (), renamed=(("bucket_name", "bucket"), ("key_prefix", "prefix"))),
    # S1: SD3.5 Large judged and revised by Claude
    KeyFamily("sd_", "generator", ("model_id", "aspect_ratio", "output_format", "seed"), SD35),
    KeyFamily("claude_validate_", "validator", ("model_id", *SAMPLING)),
    KeyFamily("claude_revise_", "reviser", ("model_id", *SAMPLING)),
    # S2: SDXL 1.0
    KeyFamily(
        "sdxl_", "generator", ("cfg_scale", "steps", "width", "height", "seed", "style_preset"), SDXL, "generator"
    ),
    # S3: Nova Canvas judged and revised by Nova Pro
    KeyFamily("nova_pro_validate_", "validator", SAMPLING, NOVA_PRO, "validator"),
    KeyFamily("nova_pro_revise_", "reviser", SAMPLING, NOVA_PRO, "reviser"),
    KeyFamily(
        "nova_canvas_", "generator", ("width", "height", "seed", "quality", "cfg_scale"), NOVA_CANVAS, "generator"
    ),
    # numberOfImages was Nova Canvas' own: alone it still says the event was written for Nova Canvas.
    KeyFamily("nova_canvas_", "", (), NOVA_CANVAS, "generator", renamed=(("number_of_images", "candidates"),)),
)

# Every flat key: (its family, the field it fills).
FLAT_KEYS: dict[str, tuple[KeyFamily, str]] = {
    key: (family, name) for family in KEY_FAMILIES for key, name in family.flat_keys().items()
}


def structured(raw: dict[str, Any]) -> dict[str, Any]:
    """Map flat seed keys onto sections; a key given both ways is an error, not a silent pick."""
    data: dict[str, Any] = {key: value for key, value in raw.items() if key not in FLAT_KEYS}
    for key, (family, name) in FLAT_KEYS.items():
        if key not in raw:
            continue
        target = _section(data, family.section)
        if name in target:
            where = f"{family.section}.{name}" if family.section else name
            raise InvalidInput(f"{key}: conflicts with {where}; give one of them")
        target[name] = raw[key]
    for family in KEY_FAMILIES:
        if family.implies and family.model and any(key in raw for key in family.flat_keys()):
            _section(data, family.implies).setdefault("model_id", family.model)
    return data


def _section(data: dict[str, Any], section: str) -> dict[str, Any]:
    if not section:
        return data
    target = data.setdefault(section, {})
    if not isinstance(target, dict):
        raise InvalidInput(f"{section}: must be an object")
    return target

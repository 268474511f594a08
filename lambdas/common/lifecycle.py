"""What a run does with a model Bedrock has retired (catalogue status EOL): by the request's
`retired_models` policy, run the catalogued successor in its place ("successor", the default) and
say so, or end at once as ModelUnavailable naming the successor ("fail").

Bedrock answers a retired model's every call with an error, so substituting at "Check input" is the
only way a seed event written for SDXL, Nova Canvas or Claude 3.7 still makes an image today. A Legacy
model is refused too (HTTP 404 "... marked by provider as Legacy ...") to any account that has not used it
lately, every new one included: by `legacy_models` its successor runs in its place and the run says so
("successor", the default), or it is kept for an account that still has it ("keep")."""

from typing import Any

from common.catalogue import base_model_id, lookup
from common.errors import ModelUnavailable
from common.generators import default_model, family_of, offered_modes
from common.generators.base import ImageGenerator
from common.manifest import Substitution
from common.request import RunRequest, allowed_by, read_request
from common.settings import Settings


def _successor(model_id: str, allowed: tuple[str, ...], keep_legacy: bool) -> str | None:
    """The id to run the retired (or Legacy) model's catalogued successor by, or None if the model runs.

    Newer models run through cross-region profiles: the successor keeps the retired id's profile where
    it is served through it, else takes the deployment's allow-listed id for it, else its own id."""
    info = lookup(model_id)
    replaced = info is not None and (info.status == "EOL" or (info.status == "LEGACY" and not keep_legacy))
    if info is None or not replaced or not info.successor:
        return None
    profile = model_id[: len(model_id) - len(base_model_id(model_id))]
    successor = lookup(info.successor)
    if profile and successor is not None and profile.rstrip(".") in successor.profiles:
        return f"{profile}{info.successor}"
    listed = [allowed_id for allowed_id in allowed if base_model_id(allowed_id) == info.successor]
    return listed[0] if listed else info.successor


def check_request(raw: Any, settings: Settings) -> tuple[RunRequest, list[Substitution]]:
    """The request as "Check input" accepts it: its own rules, retired models replaced by their
    successors, and then the deployment's allow-lists, which the successors must be on too."""
    request, substitutions = with_successors(read_request(raw, settings), settings.allowed_models)
    return allowed_by(request, settings), substitutions


def with_successors(request: RunRequest, allowed: tuple[str, ...] = ()) -> tuple[RunRequest, list[Substitution]]:
    """The request with each retired model replaced by its successor, and what was replaced."""
    changes: dict[str, object] = {}
    substitutions = []
    for section in ("generator", "validator", "reviser"):
        config = getattr(request, section)
        successor = _successor(config.model_id, allowed, keep_legacy=request.legacy_models == "keep")
        if successor is None:
            continue
        info = lookup(config.model_id)
        legacy = info is not None and info.status == "LEGACY"
        if section == "generator":
            mode = request.mode
            if mode == "inpaint" and request.mask_prompt and request.mask_image is None:
                # Nova Canvas found the region to repaint from a text; Stability's search-and-replace does.
                mode = "search-replace"
                changes |= {"mode": mode, "search_prompt": request.mask_prompt, "mask_prompt": None}
            successor, replaced, note = _image_successor(config, successor, mode)
            if mode != request.mode:
                note += f"; mode {request.mode} with mask_prompt became {mode} with search_prompt"
        else:
            replaced, note = config.model_copy(update={"model_id": successor}), "sampling settings kept"
        if request.retired_models == "fail" and not legacy:
            raise ModelUnavailable(
                f"{section}.model_id: {config.model_id} is retired on Bedrock; its successor is {successor} "
                '(set "retired_models": "successor" to run it in its place)'
            )
        changes[section] = replaced
        substitutions.append(
            Substitution(section=section, retired=config.model_id, successor=successor, note=note, legacy=legacy)
        )
    return request.model_copy(update=changes), substitutions


def _image_successor(retired: ImageGenerator, successor: str, mode: str) -> tuple[str, ImageGenerator, str]:
    """The successor's parameters for the retired image model's. The catalogued successor draws from
    text; an edit goes to the model that serves its mode instead."""
    if mode not in offered_modes(successor):
        successor = default_model(mode, successor)
    family = family_of(successor)
    if family is None:
        raise ModelUnavailable(f"generator.model_id: {retired.model_id}'s successor {successor} is no image model")
    if isinstance(retired, family):
        return successor, retired.model_copy(update={"model_id": successor}), "parameters kept"
    replaced, note = family.adopt(successor, retired, drawn=mode == "text-to-image")
    return successor, replaced, note

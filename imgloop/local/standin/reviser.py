"""The reviser the stand-in plays: a prompt rewritten in the target image model's style, from the judge's
reasons, in the reviser tool's shape.

What to do is read from the call's tags (common.names.CallTags: translate or revise, the target model, the
strength an edit ran at) and its tagged data slots, never from the wording of the rubric."""

import re
from typing import Any

from common.catalogue import lookup
from common.names import CallTags
from imgloop.local.standin.messages import between, elements, lower_first, tags, user_text
from revise.feedback import SUGGESTED_FIX

_PREFIX, _SUFFIX = SUGGESTED_FIX.split("{fix}")
_SUGGESTED_FIX = re.compile(re.escape(_PREFIX.lstrip()) + r"(.+)" + re.escape(_SUFFIX) + r"\s*$", re.MULTILINE)
# "without people", "no text": what the guidelines want in the negative prompt, not in the prompt.
_NEGATION = re.compile(r"\s*\b(?:without|no)\s+([^,.;]+)", re.IGNORECASE)
_QUALITY = ["blurry", "distorted", "watermark"]  # what every negative prompt should exclude
# How much more change the stand-in asks for after an image-to-image edit failed.
STRENGTH_STEP = 0.4
# The families whose guidelines ask for weighted concepts, and for a caption (never a command).
_WEIGHTED = {"sdxl"}
_CAPTIONED = {"nova-canvas", "titan-image"}


def proposal(body: dict[str, Any]) -> dict[str, Any]:
    """The requirement restated in the target model's style, the judge's fixes folded in.

    A translation is answered with the preamble the reviser strips (S4 saw Claude v2 add it)."""
    text = user_text(body)
    tagged = tags(body)
    required = between(text, "requirement")
    if tagged.get(CallTags.ROLE) == "translate":
        return {"prompt": f"Here is the translation: English rendering of '{required}'", "negative_prompt": ""}
    written = elements(required)
    kept = [_NEGATION.sub("", e).strip() for e in written]
    wanted = [e for e in kept if e] or [required]
    fixes = list(dict.fromkeys(_SUGGESTED_FIX.findall(between(text, "failures"))))
    for before, after in zip(written, kept, strict=True):
        fixes = [fix.replace(lower_first(before), lower_first(after)) for fix in fixes]
    negatives = [n.strip() for n in between(text, "last_negative_prompt").split(",")]
    negatives += [n.strip() for n in _NEGATION.findall(required)]
    answer: dict[str, Any] = {
        "prompt": _styled(tagged.get(CallTags.TARGET, ""), wanted, fixes),
        "negative_prompt": ", ".join(dict.fromkeys(n for n in [*negatives, *_QUALITY] if n)),
    }
    if CallTags.STRENGTH in tagged:
        # An image-to-image edit that failed asks for more change: a bolder step than the reviser may take.
        stronger = round(float(tagged[CallTags.STRENGTH]) + STRENGTH_STEP, 3)
        answer |= {"strength": stronger, "why": "the change is too faint"}
    return answer


def _styled(target: str, wanted: list[str], fixes: list[str]) -> str:
    info = lookup(target) if target else None
    family = info.family if info else None
    stressed = [e for e in wanted if any(lower_first(e) in fix for fix in fixes)]
    if family in _WEIGHTED:  # weighted concepts, the important ones first
        concepts = [f"({e}:1.3)" for e in stressed] + [e for e in wanted if e not in stressed]
        return ", ".join([*concepts, "highly detailed", "sharp focus"])
    if family in _CAPTIONED:
        prompt = f"a photo of {lower_first(', '.join(wanted))}, in sharp focus"
        if stressed:
            prompt += f", with {' and '.join(lower_first(e) for e in stressed)} large and centred"
        return prompt
    # SD3.5 and the Stable Image models: natural sentences
    return ". ".join([", ".join(wanted), *(fix[:1].upper() + fix[1:] for fix in fixes)]) + "."

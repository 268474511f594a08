"""The judge the stand-in plays: a verdict in the judge tool's shape."""

from typing import Any

from common.names import CallTags
from imgloop.local.standin.messages import elements, lower_first, requirement, tags, user_text


def verdict(body: dict[str, Any], nth: int, passed: bool) -> dict[str, Any]:
    """A judge that finds a different element missing on each image, so the reviser has new reasons."""
    required = requirement(user_text(body))
    listed = elements(required)[:6]
    missing = listed[(nth - 1) % len(listed)] if listed else required
    shown = {e: passed or e != missing for e in listed}
    checks = [{"requirement": e, "ok": shown[e], "evidence": "visible" if shown[e] else "absent"} for e in listed]
    if tags(body).get(CallTags.ROLE) == "judge-edit":
        # An edit is shown its source first: the judge also vouches for what was to stay the same.
        checks.append({"requirement": "the rest of the source is kept", "ok": True, "evidence": "as in the source"})
    return {
        "pass": passed,
        "score": 9 if passed else 4,
        "checks": checks,
        "primary_issue": "" if passed else f"'{missing}' is not clearly shown",
        "suggested_fix": "" if passed else f"show {lower_first(missing)} larger, centred and in sharp focus",
    }

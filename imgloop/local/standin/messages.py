"""How the stand-in reads a Converse request: the texts of the user message, its tagged data slots
(<requirement>, <failures>, ...), and the call's tags (requestMetadata, common.names.CallTags)."""

from typing import Any


def texts(blocks: list[dict[str, Any]]) -> str:
    return " ".join(b["text"] for b in blocks if isinstance(b.get("text"), str))


def user_text(body: dict[str, Any]) -> str:
    return texts(body["messages"][0]["content"])


def tags(body: dict[str, Any]) -> dict[str, str]:
    return dict(body.get("requestMetadata") or {})


def between(text: str, tag: str) -> str:
    start, end = f"<{tag}>", f"</{tag}>"
    return text.split(start, 1)[1].split(end, 1)[0].strip() if start in text and end in text else ""


def requirement(text: str) -> str:
    return between(text, "requirement") or text


def elements(requirement: str) -> list[str]:
    """The requirement's elements, as a judge would list them: its comma-separated parts."""
    return [part.strip() for part in requirement.replace("、", ",").split(",") if part.strip()]


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]

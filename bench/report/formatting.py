"""How the console table and docs/performance.md write a figure, and whether it meets its goal."""

from typing import Any

from bench.run import met


def fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def verdict(key: str, value: Any) -> str:
    state = met(key, value)
    return "reported" if state is None else "met" if state else "**not met**"

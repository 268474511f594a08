"""Read a batch's items from the forms people write them in, and give each its id and defaults.

JSON Lines: one request object (or a prompt as a JSON string) per line. CSV: a header row with a
`prompt` column and any other request field; a dotted header names a section's field
(`generator.seed`), cells that read as JSON numbers, booleans, objects or lists are those, except in
the text fields. Text: one prompt per line. JSON: an array of request objects or prompts.
Blank lines are skipped everywhere. A line that cannot be read becomes an item with an error (its run
then ends as InvalidInput, with its line number); only a batch that cannot be read at all is refused.
"""

import csv
import io
import json
from dataclasses import dataclass
from typing import Any

from common.batches import ITEM_ID_RULE, MAX_ITEMS, Format, valid_item_id
from common.errors import InvalidInput, shown

# Request fields that are text even when a CSV cell looks like a number ("1984" is a prompt).
TEXT_COLUMNS = frozenset({"id", "prompt", "negative_prompt", "prompt_template", "mask_prompt", "search_prompt"})
MAX_LINE_ERRORS_SHOWN = 200


@dataclass(frozen=True)
class ReadItem:
    line: int
    request: dict[str, Any] | None
    error: str | None = None


def read_items(data: bytes, form: Format) -> list[ReadItem]:
    """The items of an input file, in order; InvalidInput when the file as a whole cannot be read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidInput(f"input: must be UTF-8 text (byte {error.start} is not)") from None
    match form:
        case "jsonl":
            items = [_json_line(number, line) for number, line in _lines(text)]
        case "text":
            items = [ReadItem(number, {"prompt": line.strip()}) for number, line in _lines(text)]
        case "csv":
            items = _csv_rows(text)
        case "json":
            items = from_list(_json_array(text))
    if not items:
        raise InvalidInput("input: holds no items (it is empty, or every line is blank)")
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"input: holds {len(items)} items; a batch takes at most {MAX_ITEMS}")
    return items


def from_list(values: list[Any]) -> list[ReadItem]:
    """Items given as a list (a JSON array, or the batch request's `items`): objects or prompts."""
    return [_item(position, value) for position, value in enumerate(values, start=1)]


def _lines(text: str) -> list[tuple[int, str]]:
    # Lines end at "\n" (and "\r\n") only: str.splitlines() also splits at U+2028 and other
    # separators a JSON string may hold.
    lines = (line.removesuffix("\r") for line in text.split("\n"))
    return [(number, line) for number, line in enumerate(lines, start=1) if line.strip()]


def _json_line(number: int, line: str) -> ReadItem:
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return ReadItem(number, None, f"line {number}: not JSON ({error.msg} at column {error.colno})")
    return _item(number, value)


def _item(number: int, value: Any) -> ReadItem:
    if isinstance(value, str):
        return ReadItem(number, {"prompt": value})
    if not isinstance(value, dict):
        return ReadItem(number, None, f"line {number}: must be a request object or a prompt string")
    return ReadItem(number, value)


def _json_array(text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput(f"input: not a JSON array ({error.msg} at line {error.lineno})") from None
    if not isinstance(value, list):
        raise InvalidInput("input: a .json batch must be an array of requests or prompts")
    return value


def _csv_rows(text: str) -> list[ReadItem]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or "prompt" not in [h.strip() for h in header]:
        raise InvalidInput("input: a CSV batch needs a header row with a 'prompt' column")
    columns = [h.strip() for h in header]
    items = []
    # A quoted cell may span lines: a row is numbered by the line it starts on.
    start = reader.line_num + 1
    for row in reader:
        number, start = start, reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(columns):
            items.append(ReadItem(number, None, f"line {number}: {len(row)} cells for {len(columns)} columns"))
            continue
        request: dict[str, Any] = {}
        for column, cell in zip(columns, row, strict=False):
            if cell.strip():
                _put(request, column, _cell(column, cell))
        items.append(ReadItem(number, request))
    return items


def _cell(column: str, cell: str) -> Any:
    if column.rsplit(".", 1)[-1] in TEXT_COLUMNS:
        return cell
    try:
        return json.loads(cell)
    except ValueError:
        return cell


def _put(request: dict[str, Any], column: str, value: Any) -> None:
    *sections, field = column.split(".")
    target = request
    for section in sections:
        target = target.setdefault(section, {})
    target[field] = value


def merged(defaults: dict[str, Any], item: dict[str, Any]) -> dict[str, Any]:
    """The item's request on top of the defaults; sections (objects) merge field by field."""
    result = dict(defaults)
    for key, value in item.items():
        base = result.get(key)
        result[key] = merged(base, value) if isinstance(base, dict) and isinstance(value, dict) else value
    return result


def item_id(item: ReadItem) -> tuple[str, str | None]:
    """The item's id, as the item names it or from its line; and why a given id is refused."""
    default = f"{item.line:05d}"
    given = item.request.get("id") if item.request is not None else None
    if given is None:
        return default, None
    if not isinstance(given, str | int) or isinstance(given, bool) or not valid_item_id(str(given)):
        return default, f"line {item.line}: id {shown(given)!r} must be {ITEM_ID_RULE}"
    return str(given), None

"""A batch's items, read from each form people write them in: what becomes a request, what becomes an
item with an error (and its line number), what refuses the whole batch; defaults and item ids."""

import pytest

from common.batch_input import ReadItem, from_list, item_id, merged, read_items
from common.batches import MAX_ITEMS
from common.errors import InvalidInput

ID_RULE = "must be 1-32 letters, digits, '-' or '_', starting with a letter or digit"


def test_jsonl_reads_objects_and_prompt_strings_keeping_each_lines_number() -> None:
    data = b'{"prompt": "a fox", "candidates": 2}\n\n"a cat on a sofa"\n   \n{"prompt": "an owl"}\n'

    items = read_items(data, "jsonl")

    assert items == [
        ReadItem(1, {"prompt": "a fox", "candidates": 2}),
        ReadItem(3, {"prompt": "a cat on a sofa"}),
        ReadItem(5, {"prompt": "an owl"}),
    ]


def test_a_jsonl_line_that_is_not_a_request_becomes_an_item_with_its_line_number() -> None:
    data = b'"a fox"\n{not json\n42\n["a list"]\n\n{"prompt": "a cat"}\n'

    items = read_items(data, "jsonl")

    assert [(i.line, i.request, i.error) for i in items] == [
        (1, {"prompt": "a fox"}, None),
        (2, None, "line 2: not JSON (Expecting property name enclosed in double quotes at column 2)"),
        (3, None, "line 3: must be a request object or a prompt string"),
        (4, None, "line 4: must be a request object or a prompt string"),
        (6, {"prompt": "a cat"}, None),
    ]


def test_csv_reads_the_prompt_column_sections_from_dotted_headers_and_typed_cells() -> None:
    data = (
        b"prompt, generator.seed ,generator.aspect_ratio,candidates,translate,validator,tags\n"
        b'"A fox, a birch forest",7,16:9,2,true,"{""max_tokens"": 500}","[1, 2]"\n'
    )

    [item] = read_items(data, "csv")

    assert item == ReadItem(
        2,
        {
            "prompt": "A fox, a birch forest",
            "generator": {"seed": 7, "aspect_ratio": "16:9"},
            "candidates": 2,
            "translate": True,
            "validator": {"max_tokens": 500},
            "tags": [1, 2],
        },
    )


def test_csv_keeps_the_text_columns_as_text_and_leaves_empty_cells_out() -> None:
    data = b"id,prompt,negative_prompt,generator.prompt_template,candidates\n12,1984,true,{prompt},\n"

    [item] = read_items(data, "csv")

    # "1984" is a prompt and "12" an id, not numbers; the empty cell gives no field at all.
    assert item.request == {
        "id": "12",
        "prompt": "1984",
        "negative_prompt": "true",
        "generator": {"prompt_template": "{prompt}"},
    }


def test_a_csv_row_with_too_many_cells_becomes_an_item_with_its_line_number() -> None:
    data = b"prompt,candidates\na fox,1\n\n,,\na cat,2,extra\nan owl\n"

    items = read_items(data, "csv")

    # The blank line and the row of empty cells are skipped; a short row just lacks the last fields.
    assert [(i.line, i.request, i.error) for i in items] == [
        (2, {"prompt": "a fox", "candidates": 1}, None),
        (5, None, "line 5: 3 cells for 2 columns"),
        (6, {"prompt": "an owl"}, None),
    ]


def test_a_csv_row_whose_quoted_cell_spans_lines_has_the_line_it_starts_on() -> None:
    items = read_items(b'prompt\n"a fox\nin snow"\nan owl\n', "csv")

    assert [(i.line, i.request) for i in items] == [(2, {"prompt": "a fox\nin snow"}), (4, {"prompt": "an owl"})]


@pytest.mark.parametrize("data", [b"text,candidates\na fox,1\n", b"", b"\n\n"])
def test_a_csv_without_a_prompt_header_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput, match=r"^input: a CSV batch needs a header row with a 'prompt' column$"):
        read_items(data, "csv")


def test_text_is_one_prompt_per_line_stripped_blank_lines_skipped_bom_dropped() -> None:
    data = "\ufeffa fox in snow\n\n  an owl at dusk  \n".encode()

    assert read_items(data, "text") == [
        ReadItem(1, {"prompt": "a fox in snow"}),
        ReadItem(3, {"prompt": "an owl at dusk"}),
    ]


def test_a_json_array_holds_requests_and_prompts_numbered_by_position() -> None:
    data = b'[\n  {"prompt": "a fox", "id": "fox"},\n  "an owl",\n  7\n]'

    items = read_items(data, "json")

    assert [(i.line, i.request, i.error) for i in items] == [
        (1, {"prompt": "a fox", "id": "fox"}, None),
        (2, {"prompt": "an owl"}, None),
        (3, None, "line 3: must be a request object or a prompt string"),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"prompt": "a fox"}', "input: a .json batch must be an array of requests or prompts"),
        (b'[\n"a fox",\n', "input: not a JSON array (Expecting value at line 3)"),
    ],
)
def test_a_json_file_that_is_not_an_array_is_refused(data: bytes, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        read_items(data, "json")
    assert str(raised.value) == message


@pytest.mark.parametrize(("data", "form"), [(b"", "jsonl"), (b"\n \n\t\n", "text"), (b"[]", "json")])
def test_an_input_without_items_is_refused(data: bytes, form: str) -> None:
    with pytest.raises(InvalidInput, match=r"^input: holds no items"):
        read_items(data, form)  # type: ignore[arg-type]


def test_an_input_that_is_not_utf8_is_refused_naming_the_byte() -> None:
    with pytest.raises(InvalidInput, match=r"^input: must be UTF-8 text \(byte 6 is not\)$"):
        read_items(b"a fox \xff\n", "text")


def test_a_batch_takes_at_most_max_items() -> None:
    prompts = "".join(f"a fox number {n}\n" for n in range(MAX_ITEMS))

    assert len(read_items(prompts.encode(), "text")) == MAX_ITEMS
    with pytest.raises(InvalidInput, match=rf"^input: holds {MAX_ITEMS + 1} items; a batch takes at most {MAX_ITEMS}$"):
        read_items((prompts + "one more\n").encode(), "text")


def test_inline_items_are_numbered_from_one() -> None:
    assert from_list(["a fox", {"prompt": "an owl"}, None]) == [
        ReadItem(1, {"prompt": "a fox"}),
        ReadItem(2, {"prompt": "an owl"}),
        ReadItem(3, None, "line 3: must be a request object or a prompt string"),
    ]


def test_defaults_merge_field_by_field_and_the_items_own_fields_win() -> None:
    defaults = {
        "candidates": 2,
        "max_retry_attempts": 3,
        "generator": {"model_id": "stability.sd3-5-large-v1:0", "aspect_ratio": "16:9", "seed": 1},
        "validator": {"max_tokens": 500},
    }
    item = {"prompt": "a fox", "candidates": 1, "generator": {"seed": 7}, "validator": "not a section"}

    request = merged(defaults, item)

    assert request == {
        "candidates": 1,
        "max_retry_attempts": 3,
        "generator": {"model_id": "stability.sd3-5-large-v1:0", "aspect_ratio": "16:9", "seed": 7},
        "validator": "not a section",  # left for the request check to refuse, naming the field
        "prompt": "a fox",
    }
    assert defaults["generator"] == {"model_id": "stability.sd3-5-large-v1:0", "aspect_ratio": "16:9", "seed": 1}


def test_nested_sections_merge_at_every_depth() -> None:
    assert merged({"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"d": 3}}}) == {"a": {"b": {"c": 1, "d": 3}}}


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        ({"prompt": "p", "id": "fox-01_a"}, ("fox-01_a", None)),
        ({"prompt": "p", "id": 42}, ("42", None)),
        ({"prompt": "p"}, ("00012", None)),
        (None, ("00012", None)),  # an unreadable line is still an item, named by its line
    ],
)
def test_an_item_is_named_by_its_id_or_by_its_line(
    request_: dict[str, object] | None, expected: tuple[str, None]
) -> None:
    assert item_id(ReadItem(12, request_)) == expected


@pytest.mark.parametrize("given", ["../fox", "-fox", "a" * 33, "", "fox.png", True, 1.5, {"id": 1}, ["x"]])
def test_an_invalid_id_gives_the_line_id_and_says_why(given: object) -> None:
    line_id, error = item_id(ReadItem(7, {"prompt": "p", "id": given}))

    assert line_id == "00007"
    assert error is not None and error.startswith("line 7: id ") and error.endswith(ID_RULE)

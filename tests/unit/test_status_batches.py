"""GET /batches/{id}: a running batch's progress, a finished one's summary, manifest URL and pages of
manifest lines, a rejected one's error; an earlier execution of a batch that has run again still answers
its own manifest; 400 and 404 named."""

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from common.batches import BatchSummary
from imgloop.local.assembly import LocalNames
from imgloop.runs.executions import follow
from tests.unit.api_events import proxy_event, status_context

NAMES = LocalNames()
# One image per item, which the stand-in's judge passes.
SMALL = {"max_retry_attempts": 1, "max_prompt_revisions": 0}
ITEMS: list[Any] = [
    "a \"red\" bicycle, it's Bob's",
    {"id": "cat", "prompt": "a cat\u2028on a mat"},  # a line separator, which JSON keeps raw
    "夜空を旅する猫",
]


def _get(name: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    return proxy_event("/batches/{id}", f"/batches/{quote(name, safe='')}", "GET", {"id": name}, query)


@pytest.fixture
def status(monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[int, dict[str, Any]]]:
    """GET /batches/{id} on the status function, with the clients of the moto account open now."""
    from status.handler import handler, presigner

    from common import clients

    monkeypatch.setenv("BATCH_STATE_MACHINE_ARN", NAMES.batch_state_machine_arn)
    monkeypatch.setenv("STATE_MACHINE_ARN", NAMES.state_machine_arn)

    def get(name: str, query: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        for cached in (clients.stepfunctions, clients.s3, presigner):
            cached.cache_clear()
        answer = handler(_get(name, query), status_context())
        return answer["statusCode"], json.loads(answer["body"])

    return get


def _answered(output: Any) -> dict[str, Any]:
    """The batch's summary as the API answers it: without the fields that are null (the plan has some)."""
    return BatchSummary.model_validate(output).model_dump(exclude_none=True)


def test_a_finished_batch_answers_its_summary_a_manifest_url_and_pages_of_its_lines(
    runner: Any, status: Callable[..., tuple[int, dict[str, Any]]]
) -> None:
    ran = runner().run_batch({"items": ITEMS, "defaults": SMALL}, "api-batch-1")

    code, body = status("api-batch-1")

    assert code == 200 and ran.status == "SUCCEEDED"
    assert (body["id"], body["batch"], body["status"]) == ("api-batch-1", "api-batch-1", "SUCCEEDED")
    assert body["summary"] == _answered(ran.output) and body["summary"]["succeeded"] == 3
    url = urlparse(body["manifest_url"])
    assert (url.netloc, url.path) == (
        f"{NAMES.bucket}.s3.us-west-2.amazonaws.com",
        "/batches/api-batch-1/runs/api-batch-1/manifest.jsonl",
    )
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]
    assert "items" not in body and "progress" not in body

    code, first = status("api-batch-1", {"items": "true", "limit": "2"})
    assert code == 200
    assert [(item["id"], item["line"], item["status"]) for item in first["items"]] == [
        ("00001", 1, "SUCCEEDED"),
        ("cat", 2, "SUCCEEDED"),
    ]
    assert first["items"][1]["prompt"] == "a cat\u2028on a mat"
    assert first["next_offset"] == 2

    code, rest = status("api-batch-1", {"items": "true", "offset": "2"})
    assert code == 200
    assert [item["prompt"] for item in rest["items"]] == ["夜空を旅する猫"]
    assert "next_offset" not in rest


def test_a_generations_id_is_not_a_batch_nor_a_batchs_a_generation(
    runner: Any, status: Callable[..., tuple[int, dict[str, Any]]]
) -> None:
    from status.handler import handler

    runner().run_batch({"items": ["a fox"], "defaults": SMALL}, "api-batch-2")
    generation = proxy_event("/generations/{id}", "/generations/api-batch-2", "GET", {"id": "api-batch-2"})

    assert status("api-batch-2")[0] == 200
    assert json.loads(handler(generation, status_context())["body"]) == {"message": "no generation with id api-batch-2"}


def test_an_earlier_execution_still_answers_its_own_manifest_after_a_rerun(
    runner: Any, status: Callable[..., tuple[int, dict[str, Any]]]
) -> None:
    batch = {"batch": "covers", "items": ["a fox", "a hen"], "defaults": SMALL}
    # Monday's hen is refused a run (no prompt); Tuesday's, corrected, runs again.
    first = runner().run_batch({**batch, "items": ["a fox", {"prompt": ""}]}, "covers-monday")
    again = runner().run_batch(batch, "covers-tuesday")

    code, earlier = status("covers-monday", {"items": "true"})
    assert code == 200 and earlier["batch"] == "covers" and earlier["summary"] == _answered(first.output)
    assert urlparse(earlier["manifest_url"]).path == "/batches/covers/runs/covers-monday/manifest.jsonl"
    assert [(i["id"], i["status"], i.get("error"), i["skipped"], i["execution"]) for i in earlier["items"]] == [
        ("00001", "SUCCEEDED", None, False, "covers-monday"),
        ("00002", "FAILED", "InvalidInput", False, "covers-monday"),
    ]

    code, latest = status("covers-tuesday", {"items": "true"})
    assert code == 200 and latest["summary"] == _answered(again.output)
    assert (latest["summary"]["succeeded"], latest["summary"]["skipped"]) == (1, 1)
    assert urlparse(latest["manifest_url"]).path == "/batches/covers/runs/covers-tuesday/manifest.jsonl"
    assert [(i["id"], i["status"], i["skipped"], i["execution"]) for i in latest["items"]] == [
        ("00001", "SUCCEEDED", True, "covers-monday"),
        ("00002", "SUCCEEDED", False, "covers-tuesday"),
    ]


@pytest.fixture
def paused(runner: Any) -> Callable[[Callable[[dict[str, Any]], bool]], Any]:
    """A local runner whose Lambda calls stop at the first that `at` matches, until the test has
    looked: `watch(sfn, arn, look)` runs `look()` there, then lets the execution finish."""

    def make(at: Callable[[dict[str, Any]], bool]) -> Any:
        reached, release = threading.Event(), threading.Event()

        def hold(params: dict[str, Any], **_: Any) -> None:
            if not reached.is_set() and at(json.loads(params.get("body") or b"{}")):
                reached.set()
                release.wait(60)

        local = runner()
        local.hooks.append(lambda events: events.register_first("before-call.lambda.Invoke", hold))

        def watch(look: Callable[[], Any]) -> Callable[[Any, str], Any]:
            def watching(sfn: Any, arn: str) -> Any:
                assert reached.wait(60), "the batch never got to the held call"
                try:
                    look()
                finally:
                    release.set()
                return follow(sfn, arn, poll_seconds=0.05)

            return watching

        return local, watch

    return make


@pytest.mark.parametrize(
    ("held", "stage", "done", "running"),
    [
        ("open_batch", "reading the items", 0, 0),
        ("second", "running the items", 1, 1),
        ("close_batch", "writing the manifest", 3, 0),
    ],
    ids=["while its items are read", "while its second item runs", "while its manifest is written"],
)
def test_a_running_batch_answers_where_it_is(
    held: str,
    stage: str,
    done: int,
    running: int,
    paused: Callable[..., Any],
    status: Callable[..., tuple[int, dict[str, Any]]],
) -> None:
    def at(payload: dict[str, Any]) -> bool:
        if held == "second":  # the item's run opening: its name is <batch>-<item id>
            return payload.get("action") == "open" and payload["execution"]["name"] == "api-batch-3-second"
        return payload.get("action") == held

    local, watch = paused(at)
    seen: list[tuple[int, dict[str, Any]]] = []
    items = [
        {"id": "first", "prompt": "a fox"},
        {"id": "second", "prompt": "a hen"},
        {"id": "third", "prompt": "a ram"},
    ]

    ran = local.run_batch(
        {"items": items, "concurrency": 1, "defaults": SMALL},
        "api-batch-3",
        watch=watch(lambda: seen.append(status("api-batch-3", {"items": "true"}))),
    )

    [(code, body)] = seen
    assert code == 200 and ran.status == "SUCCEEDED"
    assert (body["status"], body["batch"]) == ("RUNNING", "api-batch-3")
    progress = body["progress"]
    assert (progress["stage"], progress["done"], progress["running"]) == (stage, done, running)
    if stage != "reading the items":
        assert progress["items"] == progress["done"] + progress["running"] + progress["pending"]
    assert not {"summary", "manifest_url", "items", "stopped_at"} & set(body)


def test_a_rejected_batch_answers_its_error(runner: Any, status: Callable[..., tuple[int, dict[str, Any]]]) -> None:
    runner().run_batch({"items": ["a fox"], "defaults": {"id": "same-for-all"}}, "api-batch-4")

    code, body = status("api-batch-4")

    assert code == 200
    assert (body["status"], body["error"], body["batch"]) == ("FAILED", "InvalidInput", "api-batch-4")
    assert body["cause"].startswith("defaults.id:")
    assert not {"summary", "manifest_url", "progress"} & set(body)


@pytest.fixture
def machine(aws: None) -> Iterator[None]:
    """The batch state machine in a moto account where nothing runs."""
    import boto3

    boto3.client("stepfunctions").create_state_machine(
        name=NAMES.batch_state_machine,
        definition='{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
        roleArn="arn:aws:iam::123456789012:role/r",
    )
    yield


@pytest.mark.parametrize(
    ("name", "query", "code", "message"),
    [
        ("never-started", None, 404, "no batch with id never-started"),
        (
            "../batches/x",
            None,
            400,
            "id: must be 1-80 letters, digits, '-' or '_', starting with a letter or digit (the execution name)",
        ),
        ("b", {"items": "maybe"}, 400, "items: Input should be a valid boolean, unable to interpret input"),
        ("b", {"items": "true", "offset": "-1"}, 400, "offset: Input should be greater than or equal to 0"),
        ("b", {"items": "true", "limit": "1001"}, 400, "limit: Input should be less than or equal to 1000"),
        ("b", {"page": "2"}, 400, "page: unknown field (not part of the request)"),
    ],
    ids=[
        "unknown id",
        "not an execution name",
        "items not a boolean",
        "negative offset",
        "page too long",
        "unknown key",
    ],
)
def test_unknown_ids_and_malformed_ids_or_queries_are_named(
    name: str,
    query: dict[str, str] | None,
    code: int,
    message: str,
    machine: None,
    status: Callable[..., tuple[int, dict[str, Any]]],
) -> None:
    assert status(name, query) == (code, {"message": message})

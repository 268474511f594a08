"""GET /generations/{id}: status, result and a presigned image URL; POST /uploads: a presigned PUT for an
image or a batch's items; 400 and 404 named. (GET /batches/{id}: test_status_batches.py.)"""

import json
from typing import Any
from urllib.parse import parse_qs, quote, urlparse

import pytest

from tests.conftest import load_event
from tests.unit.api_events import proxy_event, status_context

MACHINE = "arn:aws:states:us-west-2:123456789012:stateMachine:ImageLoop"


def _get(name: str, method: str = "GET") -> dict[str, Any]:
    """`GET /generations/{id}`"""
    return proxy_event("/generations/{id}", f"/generations/{quote(name, safe='')}", method, {"id": name})


@pytest.fixture
def context() -> Any:
    return status_context()


def test_a_finished_run_answers_with_its_output_and_a_presigned_url(
    runner: Any, context: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = runner()
    run.run(load_event("small_budget.json"), "api-run-1")
    from status.handler import handler

    from common import clients

    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    clients.stepfunctions.cache_clear()
    answer = handler(_get("api-run-1"), context)

    assert answer["statusCode"] == 200
    assert answer["multiValueHeaders"]["Content-Type"] == ["application/json"]
    body = json.loads(answer["body"])
    assert body["status"] == "SUCCEEDED" and body["id"] == "api-run-1"
    assert body["output"]["key"] == "generated-images/api-run-1/r00-a01.png"
    url = urlparse(body["image_url"])
    assert url.path.endswith("/generated-images/api-run-1/r00-a01.png")
    assert parse_qs(url.query)["X-Amz-Expires"] == ["900"]


def test_unknown_and_malformed_ids(aws: None, context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3
    from status.handler import handler

    from common import clients

    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    clients.stepfunctions.cache_clear()
    boto3.client("stepfunctions").create_state_machine(
        name="ImageLoop",
        definition='{"StartAt":"A","States":{"A":{"Type":"Pass","End":true}}}',
        roleArn="arn:aws:iam::123456789012:role/r",
    )
    missing = handler(_get("never-started"), context)
    assert missing["statusCode"] == 404
    assert json.loads(missing["body"]) == {"message": "no generation with id never-started"}
    bad = handler(_get("../etc/passwd"), context)
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["message"].startswith("id: must be")
    assert handler(_get("api-run-1", "DELETE"), context)["statusCode"] == 404  # only GET is routed


def _post_upload(body: str | None) -> dict[str, Any]:
    """`POST /uploads`"""
    return proxy_event("/uploads", "/uploads", "POST", body=body)


@pytest.fixture
def uploads_bucket(s3: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    from status.handler import presigner

    from common import clients

    s3.create_bucket(Bucket="stack-bucket", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    monkeypatch.setenv("OUTPUT_BUCKET", "stack-bucket")
    monkeypatch.setenv("UPLOADS_PREFIX", "uploads")
    clients.s3.cache_clear()
    presigner.cache_clear()
    return "stack-bucket"


def test_post_uploads_answers_a_presigned_put_for_a_new_key_under_uploads(
    uploads_bucket: str, s3: Any, context: Any
) -> None:
    import requests
    from status.handler import handler

    answer = handler(_post_upload('{"content_type": "image/jpeg"}'), context)

    assert answer["statusCode"] == 201
    upload = json.loads(answer["body"])
    key = upload["source_image"]["key"]
    assert upload["source_image"] == {"bucket": uploads_bucket, "key": key}
    assert upload["s3_uri"] == f"s3://{uploads_bucket}/{key}"
    assert key.startswith("uploads/") and key.endswith(".jpg")
    assert upload["method"] == "PUT" and upload["headers"] == {"Content-Type": "image/jpeg"}
    url = urlparse(upload["upload_url"])
    # The bucket's regional endpoint: the global one may redirect, and a redirect breaks the signature.
    assert url.netloc == f"{uploads_bucket}.s3.us-west-2.amazonaws.com" and url.path == f"/{key}"
    query = parse_qs(url.query)
    assert query["X-Amz-Expires"] == ["900"] == [str(upload["expires_in"])]
    assert query["X-Amz-SignedHeaders"] == ["content-type;host"]

    sent = requests.put(upload["upload_url"], data=b"\xff\xd8 a photo", headers=upload["headers"], timeout=10)

    assert sent.status_code == 200
    stored = s3.get_object(Bucket=uploads_bucket, Key=key)
    assert stored["Body"].read() == b"\xff\xd8 a photo" and stored["ContentType"] == "image/jpeg"


def test_each_upload_gets_a_key_of_its_own_png_by_default(uploads_bucket: str, context: Any) -> None:
    from status.handler import handler

    keys = {json.loads(handler(_post_upload(None), context)["body"])["source_image"]["key"] for _ in range(2)}

    assert len(keys) == 2 and all(k.startswith("uploads/") and k.endswith(".png") for k in keys)


@pytest.mark.parametrize(
    ("content_type", "form"),
    [("application/x-ndjson", "jsonl"), ("text/csv", "csv"), ("text/plain", "text"), ("application/json", "json")],
)
def test_post_uploads_takes_a_batchs_items_file_with_the_extension_its_form_is_read_by(
    content_type: str, form: str, uploads_bucket: str, context: Any
) -> None:
    from status.handler import handler

    from common.batches import format_of

    answer = handler(_post_upload(json.dumps({"content_type": content_type})), context)

    assert answer["statusCode"] == 201
    upload = json.loads(answer["body"])
    key = upload["source_image"]["key"]
    assert key.startswith("uploads/") and format_of(key) == form
    assert upload["s3_uri"] == f"s3://{uploads_bucket}/{key}"
    assert upload["headers"] == {"Content-Type": content_type}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            '{"content_type": "image/gif"}',
            "content_type: Input should be 'image/png', 'image/jpeg', 'image/webp', 'application/x-ndjson', "
            "'text/csv', 'text/plain' or 'application/json'",
        ),
        ('{"content_type": "image/png", "key": "../x"}', "key: unknown field (not part of the request)"),
        ("not json", 'body: must be JSON, e.g. {"content_type": "image/png"}'),
    ],
    ids=["not an image type", "a key of the caller's choosing", "not JSON"],
)
def test_post_uploads_refuses_a_body_it_cannot_serve_naming_the_field(
    body: str, message: str, uploads_bucket: str, context: Any
) -> None:
    from status.handler import handler

    answer = handler(_post_upload(body), context)

    assert answer["statusCode"] == 400
    assert json.loads(answer["body"]) == {"message": message}

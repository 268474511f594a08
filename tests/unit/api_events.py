"""What API Gateway's Lambda proxy integration hands the status function."""

from typing import Any


def proxy_event(
    resource: str,
    path: str,
    method: str = "GET",
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    body: str | None = None,
) -> dict[str, Any]:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Accept": "application/json", "Content-Type": "application/json"},
        "multiValueHeaders": {"Accept": ["application/json"], "Content-Type": ["application/json"]},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": path_parameters,
        "requestContext": {"requestId": "req-1", "stage": "v1", "path": f"/v1{path}", "httpMethod": method},
        "body": body,
        "isBase64Encoded": False,
    }


def status_context() -> Any:
    from imgloop.local.functions import LambdaContext

    return LambdaContext("StatusFunction", "arn:aws:lambda:us-west-2:123456789012:function:StatusFunction")

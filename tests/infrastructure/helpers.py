"""Reading the synthesized template: resources by type, a role's IAM statements, joined strings, and
every state of a definition."""

import json
from collections.abc import Callable
from typing import Any

from imgloop.local.assembly import BATCH_MACHINE, LOOP_MACHINE

# The context of the second synthesis (conftest.py's `variant`): what a deploy may set otherwise.
VARIANT_CONTEXT: dict[str, Any] = {
    "imgloop:api_auth": "api_key",
    "imgloop:batch_concurrency": 7,
    "imgloop:batch_plan": {"image_requests_per_minute": 30, "image_s": 10},
    "imgloop:max_cost_usd": 2.5,
    "imgloop:daily_spend_alarm_usd": 40,
    "imgloop:alarm_email": "ops@example.com",
    "imgloop:notify_completions": True,
}


def resources(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


# Each POST of the API, the state machine it starts (by its logical id's start) and the GET that
# answers for the id it gives.
STARTS = {"POST /generations": (LOOP_MACHINE, "/generations"), "POST /batches": (BATCH_MACHINE, "/batches")}


def _resource_path(template: dict[str, Any], resource_id: dict[str, Any]) -> str:
    if "Ref" not in resource_id:
        return ""  # the API's root resource
    resource = template["Resources"][resource_id["Ref"]]["Properties"]
    return f"{_resource_path(template, resource['ParentId'])}/{resource['PathPart']}"


def api_methods(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each method's properties by its verb and path, e.g. "POST /generations", "GET /batches/{id}"."""
    return {
        f"{m['Properties']['HttpMethod']} {_resource_path(template, m['Properties']['ResourceId'])}": m["Properties"]
        for m in resources(template, "AWS::ApiGateway::Method").values()
    }


def images_bucket(template: dict[str, Any]) -> str:
    """The logical id of the stack's bucket (not its access log bucket)."""
    [bucket] = [k for k in resources(template, "AWS::S3::Bucket") if "Images" in k]
    return bucket


def state_machine(template: dict[str, Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """The logical id and properties of the one state machine whose logical id starts so
    (imgloop.local.assembly's LOOP_MACHINE or BATCH_MACHINE)."""
    [(logical_id, machine)] = [
        (k, m) for k, m in resources(template, "AWS::StepFunctions::StateMachine").items() if k.startswith(prefix)
    ]
    return logical_id, machine["Properties"]


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """Every statement of every policy attached to the role (by its logical id)."""
    return [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def listed(value: Any) -> list[Any]:
    """An IAM Action or Resource, which is one value or a list of them, as a list."""
    return value if isinstance(value, list) else [value]


def joined(value: Any, other: Callable[[dict[str, Any]], str]) -> str:
    """A string as deployed: Fn::Join resolved, any other intrinsic as `other` names it."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(joined(part, other) for part in parts)
    return other(value)


def placeholder(value: dict[str, Any]) -> str:
    """<Logical> for a Ref, <Logical.Attribute> for a GetAtt, any other intrinsic as compact JSON: the
    forms cdk-nag names them in."""
    if "Ref" in value:
        return f"<{value['Ref']}>"
    if "Fn::GetAtt" in value:
        logical_id, attribute = value["Fn::GetAtt"]
        return f"<{logical_id}.{attribute}>"
    return json.dumps(value, separators=(",", ":"))


def all_states(states: dict[str, Any], into_maps: bool = True) -> dict[str, Any]:
    """The states, and those in their Parallel branches and (unless told not to) Map processors."""
    found = dict(states)
    for state in states.values():
        nested = [branch["States"] for branch in state.get("Branches", [])]
        if into_maps and state["Type"] == "Map":
            nested.append(state["ItemProcessor"]["States"])
        for inner in nested:
            found.update(all_states(inner, into_maps))
    return found

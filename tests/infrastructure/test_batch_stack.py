"""The batch state machine as synthesized: a Distributed Map of standard child executions over the item
list in the stack's bucket, each running the image loop and ending in its outcome, never in a Fail;
its role's rights; the deploy-time concurrency; and cdk-nag's word on it."""

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imgloop.local.assembly import BATCH_MACHINE, LocalNames, load_workflow
from tests.infrastructure.helpers import (
    VARIANT_CONTEXT,
    all_states,
    images_bucket,
    joined,
    listed,
    placeholder,
    resources,
    role_statements,
    state_machine,
)

STATES = "arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>"


@pytest.fixture(scope="module")
def definition(template: dict[str, Any]) -> dict[str, Any]:
    """The batch definition as deployed, each reference to a resource as <LogicalId> or <LogicalId.Attribute>."""
    return dict(json.loads(joined(state_machine(template, BATCH_MACHINE)[1]["DefinitionString"], placeholder)))


def _processor(definition: dict[str, Any]) -> dict[str, Any]:
    return dict(definition["States"]["Run the items"]["ItemProcessor"])


def test_the_batch_machine_is_standard_with_logging_tracing_and_a_week_to_run(template: dict[str, Any]) -> None:
    _, props = state_machine(template, BATCH_MACHINE)

    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert props["LoggingConfiguration"]["IncludeExecutionData"] is True
    assert json.loads(joined(props["DefinitionString"], placeholder))["TimeoutSeconds"] == 7 * 24 * 3600


def test_the_items_run_as_standard_child_executions_of_a_distributed_map_reading_the_list_from_the_bucket(
    template: dict[str, Any], definition: dict[str, Any]
) -> None:
    states = definition["States"]
    run = states["Run the items"]

    assert definition["StartAt"] == "Read the batch" and states["Read the batch"]["Next"] == "Run the items"
    assert run["Type"] == "Map" and run["Next"] == "Write the batch manifest"
    assert run["ItemProcessor"]["ProcessorConfig"] == {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}
    assert run["ItemReader"] == {
        "Resource": "arn:<AWS::Partition>:states:::s3:getObject",
        "ReaderConfig": {"InputType": "JSON"},
        "Parameters": {"Bucket": f"<{images_bucket(template)}>", "Key.$": "$.batch.items_key"},
    }
    assert run["ItemSelector"] == {"item.$": "$$.Map.Item.Value", "batch.$": "$.batch"}
    assert run["MaxConcurrencyPath"] == "$.batch.concurrency"
    assert run["ToleratedFailureCountPath"] == "$.batch.items"
    assert "MaxConcurrency" not in run and "ToleratedFailureCount" not in run
    # Each item's record is in S3: the Map's result would only grow with the batch.
    assert "ResultPath" in run and run["ResultPath"] is None
    # A failure of the Map itself fails the batch, with the error's message read out first.
    assert run["Catch"] == [{"ErrorEquals": ["States.ALL"], "Next": "Is the batch's error a function's?"}]


def _names(states: dict[str, Any]) -> Iterator[str]:
    """Every state's name, nested ones too, as often as it occurs."""
    for name, state in states.items():
        yield name
        for branch in state.get("Branches", []):
            yield from _names(branch["States"])
        if state["Type"] == "Map":
            yield from _names(state["ItemProcessor"]["States"])


def test_each_item_runs_the_loops_states_which_occur_once(assembly: Path, definition: dict[str, Any]) -> None:
    loop = set(all_states(load_workflow(assembly, LocalNames()).definition["States"]))
    [branch] = _processor(definition)["States"]["Run the image loop"]["Branches"]

    assert {"Check input", "Make candidates", "Generate image", "Validate image", "Revise prompt"} <= loop
    assert set(all_states(branch["States"])) == loop
    counted = Counter(_names(definition["States"]))
    assert {name: counted[name] for name in loop} == dict.fromkeys(loop, 1)


def test_an_item_never_fails_its_child_execution(definition: dict[str, Any]) -> None:
    processor = _processor(definition)
    everything = all_states(processor["States"])
    # The item's own flow and the loop's branch; a nested Map's iterations end back in their Map.
    flow = all_states(processor["States"], into_maps=False)

    assert [name for name, state in everything.items() if state["Type"] == "Fail"] == []
    assert [name for name, state in everything.items() if state["Type"] == "Choice" and "Default" not in state] == []
    ends = {name: state["Type"] for name, state in flow.items() if state.get("End") or state["Type"] == "Succeed"}
    assert set(ends.values()) <= {"Pass", "Succeed"}
    assert {"Item done", "Item not recorded", "Succeeded before", "Done", "Run failed"} <= set(ends)
    # Whatever fails in the item's own states is caught: the loop as a whole, and the record's filing.
    for name, state in processor["States"].items():
        if state["Type"] in ("Task", "Parallel", "Map"):
            assert ["States.ALL"] in [catch["ErrorEquals"] for catch in state.get("Catch", [])], name


def _own_executions(machine: str) -> str:
    """The ARN of the machine's executions as CDK writes it: the machine's name cut from its ARN."""
    return f'{STATES}:execution:{{"Fn::Select":[6,{{"Fn::Split":[":",{{"Ref":"{machine}"}}]}}]}}'


def test_the_batch_role_may_invoke_the_four_functions_read_batches_and_run_only_its_own_executions(
    template: dict[str, Any],
) -> None:
    machine, props = state_machine(template, BATCH_MACHINE)
    functions = sorted(k for k in resources(template, "AWS::Lambda::Function") if k.startswith("Workflow"))
    statements = role_statements(template, props["RoleArn"]["Fn::GetAtt"][0])
    granted = {
        (action, joined(resource, placeholder))
        for statement in statements
        for action in listed(statement["Action"])
        for resource in listed(statement["Resource"])
        if resource != "*"
    }
    own = _own_executions(machine)

    assert len(functions) == 4
    assert granted == {
        *(("lambda:InvokeFunction", f"<{f}.Arn>") for f in functions),
        *(("lambda:InvokeFunction", f"<{f}.Arn>:*") for f in functions),
        ("s3:GetObject", f"<{images_bucket(template)}.Arn>/batches/*"),
        ("states:StartExecution", f"<{machine}>"),
        ("states:DescribeExecution", f"{own}:*"),
        ("states:StopExecution", f"{own}:*"),
        ("states:RedriveExecution", f"{own}/items:*"),
    }
    # What takes no resource ARN: log delivery and X-Ray only.
    wide = [action for s in statements if s["Resource"] == "*" for action in listed(s["Action"])]
    assert wide and all(action.startswith(("logs:", "xray:")) for action in wide)


def _environment(template: dict[str, Any], name: str) -> set[str]:
    return {
        f["Properties"]["Environment"]["Variables"][name]
        for f in resources(template, "AWS::Lambda::Function").values()
        if "Handler" in f["Properties"]
    }


def test_the_deploy_time_batch_concurrency_and_plan_reach_every_function(
    template: dict[str, Any], variant: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    variant_template, report = variant

    # Unset, each batch plans its concurrency from the models' quotas.
    assert _environment(template, "BATCH_CONCURRENCY") == {""}
    assert _environment(variant_template, "BATCH_CONCURRENCY") == {str(VARIANT_CONTEXT["imgloop:batch_concurrency"])}
    assert _environment(template, "BATCH_PLAN") == {"{}"}
    assert [json.loads(v) for v in _environment(variant_template, "BATCH_PLAN")] == [
        VARIANT_CONTEXT["imgloop:batch_plan"]
    ]
    assert all(p["conclusion"] == "success" for p in report["pluginReports"])


def test_only_save_may_read_the_accounts_quotas(template: dict[str, Any]) -> None:
    reads = [
        (name, statement)
        for name, policy in resources(template, "AWS::IAM::Policy").items()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if any(action.startswith("servicequotas:") for action in listed(statement["Action"]))
    ]
    assert [(name.startswith("SaveReadsQuotas"), s["Action"], s["Resource"]) for name, s in reads] == [
        (True, ["servicequotas:ListAWSDefaultServiceQuotas", "servicequotas:ListServiceQuotas"], "*")
    ]


def test_cdk_nag_findings_on_the_batch_machine_are_each_acknowledged_for_a_reason(
    assembly: Path, template: dict[str, Any]
) -> None:
    machine, _ = state_machine(template, BATCH_MACHINE)
    report = json.loads((assembly / "validation-report.json").read_text())
    [plugin] = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    on_the_machine = {
        finding["ruleName"]: finding["reason"]
        for finding in plugin["suppressedViolations"]
        if any("/Workflow/BatchStateMachine/" in c["constructPath"] for c in finding["violatingConstructs"])
    }
    functions = sorted(k for k in resources(template, "AWS::Lambda::Function") if k.startswith("Workflow"))
    own = _own_executions(machine)

    assert plugin["violations"] == []
    assert set(on_the_machine) == {
        "AwsSolutions-IAM5[Resource::*]",
        f"AwsSolutions-IAM5[Resource::<{images_bucket(template)}.Arn>/batches/*]",
        f"AwsSolutions-IAM5[Resource::{own}:*]",
        f"AwsSolutions-IAM5[Resource::{own}/items:*]",
        *(f"AwsSolutions-IAM5[Resource::<{f}.Arn>:*]" for f in functions),
    }
    assert all(len(reason) >= 40 for reason in on_the_machine.values())

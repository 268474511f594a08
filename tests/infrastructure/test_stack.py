"""The synthesized template: what a deploy would create, and the definition the local runs execute."""

import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from common.results import CandidateResult, Failed, Generated, NotMet, Opened, Proposal, Recorded, Success
from common.tasks import (
    CloseFailed,
    CloseNotMet,
    CloseSucceeded,
    GenerateTask,
    OpenRun,
    RecordTask,
    RewriteTask,
    ValidateTask,
)
from imgloop.local.assembly import LOOP_MACHINE, LocalNames, load_workflow
from tests.infrastructure.helpers import all_states, resources, role_statements, state_machine


def _definition(assembly: Any) -> dict[str, Any]:
    return load_workflow(assembly, LocalNames()).definition


def test_the_loop_is_a_standard_state_machine_with_logging_tracing_and_a_timeout(
    template: dict[str, Any], assembly: Any
) -> None:
    _, props = state_machine(template, LOOP_MACHINE)
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    assert _definition(assembly)["TimeoutSeconds"] == 3 * 3600


def test_python_313_functions_with_the_powertools_layer_and_active_tracing(template: dict[str, Any]) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    assert sorted(f["Properties"]["Handler"] for f in functions.values()) == [
        "generate.handler.handler",
        "revise.handler.handler",
        "save.handler.handler",
        "status.handler.handler",
        "validate.handler.handler",
    ]
    parameters = template["Parameters"]
    for function in functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13"
        assert props["TracingConfig"] == {"Mode": "Active"}
        powertools = props["Layers"][0]
        assert parameters[powertools["Ref"]]["Default"] == "/aws/service/powertools/python/x86_64/python3.13/latest"
        env = props["Environment"]["Variables"]
        assert env["GENERATOR_MODEL_ID"] == "stability.sd3-5-large-v1:0"
        assert env["VALIDATOR_MODEL_ID"] == env["REVISER_MODEL_ID"] == "us.anthropic.claude-sonnet-4-6"
        assert env["POWERTOOLS_SERVICE_NAME"] == "imgloop"


def test_every_task_retries_transient_faults_with_full_jitter_including_lambda_throttling(assembly: Any) -> None:
    states = all_states(_definition(assembly)["States"])
    tasks = {name: s for name, s in states.items() if s["Type"] == "Task"}
    assert set(tasks) == {
        "Check input",
        "Translate prompt",
        "Report failure",
        "Generate image",
        "Save image",
        "Validate image",
        "Revise prompt",
        "Report success",
        "Report requirements not met",
        "Report spending cap reached",
    }
    for state in tasks.values():
        assert state["Resource"] == "arn:aws:states:::lambda:invoke"
        retried = {error for rule in state["Retry"] for error in rule["ErrorEquals"]}
        assert {
            "Lambda.TooManyRequestsException",
            "Lambda.ServiceException",
            "ModelThrottled",
            "ModelTimeout",
        } <= retried
        assert all(rule["JitterStrategy"] == "FULL" and rule["BackoffRate"] == 2 for rule in state["Retry"])
        assert "States.ALL" not in retried and "InvalidInput" not in retried and "ModelUnavailable" not in retried


def test_counters_change_only_in_the_state_machine(assembly: Any) -> None:
    states = _definition(assembly)["States"]
    # The Map counts the attempt for its iterations, and its tally carries the count on.
    candidates = states["Make candidates"]
    assert candidates["ItemSelector"]["loop"]["attempt.$"] == "States.MathAdd($.loop.tally.attempt, 1)"
    # Each candidate answers [attempt, passed, cost, spent before]: the tally reads them with intrinsic
    # functions alone.
    selector = candidates["ResultSelector"]
    assert selector["attempt.$"] == "States.ArrayGetItem(States.ArrayGetItem($, 0), 0)"
    assert all("[*]" not in value and "$[" not in value for value in selector.values())
    validate = candidates["ItemProcessor"]["States"]["Validate image"]
    assert validate["ResultSelector"] == {
        "kept.$": "States.Array($.Payload.attempt, $.Payload.passed, "
        "States.MathAdd($.Payload.image_usd_micro, $.Payload.judge_usd_micro), $.Payload.spent_usd_micro)"
    }
    assert validate["OutputPath"] == "$.kept"
    assert candidates["ResultPath"] == "$.loop.tally"
    # Each new prompt starts with no attempt made at it.
    assert states["Use the revised prompt"]["Parameters"]["revision.$"] == "States.MathAdd($.loop.revision, 1)"
    for start in ("Start with the original prompt", "Use the translation", "Use the revised prompt"):
        assert states[start]["Parameters"]["tally"]["attempt"] == 0
        assert states[start]["ResultPath"] == "$.loop"
    # The spend travels in the tally: each new prompt adds its rewrite's cost, the Map its attempt's.
    assert states["Start with the original prompt"]["Parameters"]["tally"]["spent_usd_micro"] == 0
    assert (
        states["Use the revised prompt"]["Parameters"]["tally"]["spent_usd_micro.$"]
        == "States.MathAdd($.loop.tally.spent_usd_micro, $.proposal.usd_micro)"
    )
    assert candidates["ItemSelector"]["loop"]["spent_usd_micro.$"] == "$.loop.tally.spent_usd_micro"
    assert set(selector) == {"attempt.$", "accepted.$", "spent_usd_micro.$"}
    # One Choice decides after each attempt, its rules in order: accepted, another attempt, a revision
    # (each only within the spending cap), the cap reached with budget left, the budget used up.
    assert states["Make candidates"]["Next"] == "Accepted, try again or revise?"
    decide = states["Accepted, try again or revise?"]
    spent = "$.loop.tally.spent_usd_micro"
    attempts_left = {"Variable": "$.loop.tally.attempt", "NumericLessThanPath": "$.request.max_retry_attempts"}
    revisions_left = {"Variable": "$.loop.revision", "NumericLessThanPath": "$.request.max_prompt_revisions"}
    assert decide["Choices"] == [
        {"Variable": "$.loop.tally.accepted", "BooleanEquals": True, "Next": "Report success"},
        {
            "And": [
                attempts_left,
                {"Variable": spent, "NumericLessThanEqualsPath": "$.budget.attempt_within_usd_micro"},
            ],
            "Next": "Make candidates",
        },
        {
            "And": [
                revisions_left,
                {"Variable": spent, "NumericLessThanEqualsPath": "$.budget.revision_within_usd_micro"},
            ],
            "Next": "Revise prompt",
        },
        {"Or": [attempts_left, revisions_left], "Next": "Report spending cap reached"},
    ]
    assert decide["Default"] == "Report requirements not met"
    assert states["Spending cap reached"] == {
        "Type": "Fail",
        "Error": "RequirementsNotMet",
        "CausePath": "$.closing.cause",
    }
    assert states["Requirements not met"] == {
        "Type": "Fail",
        "Error": "RequirementsNotMet",
        "CausePath": "$.closing.cause",
    }


# Each task state: the model its function parses the payload with, and the model it answers with.
CONTRACT: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "Check input": (OpenRun, Opened),
    "Generate image": (GenerateTask, Generated),
    "Save image": (RecordTask, Recorded),
    "Validate image": (ValidateTask, CandidateResult),
    "Translate prompt": (RewriteTask, Proposal),
    "Revise prompt": (RewriteTask, Proposal),
    "Report success": (CloseSucceeded, Success),
    "Report requirements not met": (CloseNotMet, NotMet),
    "Report spending cap reached": (CloseNotMet, NotMet),
    "Report failure": (CloseFailed, Failed),
}


def test_each_task_is_handed_what_its_payload_model_takes_and_selects_what_its_result_model_has(
    assembly: Any,
) -> None:
    states = all_states(_definition(assembly)["States"])
    tasks = {name for name, state in states.items() if state["Type"] == "Task"}
    assert tasks == set(CONTRACT)
    for name, (payload, result) in CONTRACT.items():
        given = {key.removesuffix(".$") for key in states[name]["Parameters"]["Payload"]}
        required = {field for field, info in payload.model_fields.items() if info.is_required()}
        assert required <= given <= set(payload.model_fields), name
        selector = states[name]["ResultSelector"]
        # A task that keeps only some of its result (Validate, for the candidates' tally) reads each by path.
        selected = set(re.findall(r"\$\.Payload\.(\w+)", selector["kept.$"])) if "kept.$" in selector else set()
        assert selected < set(result.model_fields) or {key.removesuffix(".$") for key in selector} == set(
            result.model_fields
        ), name


def test_every_candidate_ends_at_validate_which_answers_a_refusal_too(assembly: Any) -> None:
    [candidates] = [s for s in _definition(assembly)["States"].values() if s["Type"] == "Map"]
    processor = candidates["ItemProcessor"]
    assert processor["StartAt"] == "Generate image"
    assert [name for name, state in processor["States"].items() if state.get("End")] == ["Validate image"]
    payload = processor["States"]["Validate image"]["Parameters"]["Payload"]
    assert (payload["key.$"], payload["refusal.$"]) == ("$.record.key", "$.generation.refusal")


def test_the_loop_state_machine_may_invoke_only_its_four_functions(template: dict[str, Any]) -> None:
    functions = {name for name in resources(template, "AWS::Lambda::Function") if name.startswith("Workflow")}
    assert len(functions) == 4
    machine_role = state_machine(template, LOOP_MACHINE)[1]["RoleArn"]["Fn::GetAtt"][0]
    statements = [
        s for s in role_statements(template, machine_role) if "lambda:InvokeFunction" in json.dumps(s["Action"])
    ]
    invoked = {
        part["Fn::GetAtt"][0]
        for s in statements
        for resource in s["Resource"]
        for part in (resource.get("Fn::Join", ["", [resource]])[1] if isinstance(resource, dict) else [])
        if isinstance(part, dict) and "Fn::GetAtt" in part
    }
    assert invoked == functions


def test_the_bucket_blocks_public_access_enforces_tls_and_expires_staging(template: dict[str, Any]) -> None:
    buckets = resources(template, "AWS::S3::Bucket")
    [images] = [name for name in buckets if "Images" in name]
    [access_logs] = [name for name in buckets if "AccessLogs" in name]
    props = buckets[images]["Properties"]
    assert props["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": access_logs},
        "LogFilePrefix": "images/",
    }
    assert buckets[images]["DeletionPolicy"] == "Retain"
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in props["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireStaging"]["Prefix"] == "_staging/"
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        deny = policy["Properties"]["PolicyDocument"]["Statement"][0]
        assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_outputs_name_the_api_the_bucket_and_the_state_machines(template: dict[str, Any]) -> None:
    assert {"ApiUrl", "BucketName", "StateMachineArn", "BatchStateMachineArn"} <= set(template["Outputs"])


def test_cdk_nag_aws_solutions_finds_nothing_unacknowledged(assembly: Any) -> None:
    report = json.loads((assembly / "validation-report.json").read_text())
    assert all(p["conclusion"] == "success" for p in report["pluginReports"])
    [plugin] = [p for p in report["pluginReports"] if p["pluginName"] == "AwsSolutions"]
    assert plugin["conclusion"] == "success" and plugin["violations"] == []
    for suppressed in plugin["suppressedViolations"]:
        assert suppressed["acknowledgedId"] == f"AwsSolutions::{suppressed['ruleName']}"
        assert len(suppressed["reason"]) >= 40


def test_bedrock_is_allowed_only_on_the_allow_lists_models(template: dict[str, Any]) -> None:
    allowed = json.loads((Path(__file__).parents[2] / "cdk.json").read_text())["context"]["imgloop:allowed_models"]
    invoke = [
        statement
        for policy in resources(template, "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if statement["Action"] == "bedrock:InvokeModel"
    ]
    assert len(invoke) == 3  # Generate, Validate, Revise; Save calls no model
    rendered = json.dumps(invoke[0]["Resource"])
    for model_id in allowed:
        assert model_id in rendered
    assert "foundation-model/*" not in rendered and "inference-profile/*" not in rendered
    assert "us.anthropic.claude-sonnet-4-6" in rendered and "foundation-model/anthropic.claude-sonnet-4-6" in rendered


def test_each_function_may_touch_only_what_it_needs_in_the_bucket(template: dict[str, Any]) -> None:
    actions: dict[str, set[str]] = {}
    for name, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            for action in [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]:
                if action.startswith("s3:"):
                    actions.setdefault(name, set()).add(action)
    names = ("Generate", "Save", "Validate", "Revise", "Status", "BatchStateMachine")
    by_function: dict[str, set[str]] = {}
    for policy_name, granted in actions.items():  # a function's grants may span policies
        by_function.setdefault(next(f for f in names if f in policy_name), set()).update(granted)
    assert by_function == {
        "Generate": {"s3:PutObject", "s3:GetObject"},  # reads the image an edit starts from
        "Save": {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:ListBucket"},
        "Validate": {"s3:GetObject", "s3:PutObject"},
        "Revise": {"s3:GetObject"},
        "Status": {"s3:GetObject", "s3:PutObject"},  # presigns the image's URL, and uploads' PUT URLs
        "BatchStateMachine": {"s3:GetObject"},  # the Distributed Map reads the item list
    }


def test_generate_writes_only_to_staging(template: dict[str, Any]) -> None:
    [policy] = [p for name, p in resources(template, "AWS::IAM::Policy").items() if "GenerateFunctionObjects" in name]
    writes = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if "s3:PutObject" in s["Action"]]
    assert [s["Resource"]["Fn::Join"][1][-1] for s in writes] == ["/_staging/*"]


def test_the_pillow_layer_bundles_linux_wheels_with_pip_and_no_docker(tmp_path: Path) -> None:
    from infra.layers import PILLOW_DIR, PipInstall

    assert PipInstall(PILLOW_DIR / "requirements.txt").try_bundle(str(tmp_path), image=None)
    site = tmp_path / "python"
    assert (site / "PIL" / "__init__.py").exists()
    # Built for Lambda's Python 3.13 on x86_64, whatever this machine runs.
    assert list((site / "PIL").glob("_imaging.cpython-313-x86_64-linux-gnu.so"))


def test_validate_alone_gets_the_pillow_layer(template: dict[str, Any]) -> None:
    [pillow] = resources(template, "AWS::Lambda::LayerVersion")
    functions = resources(template, "AWS::Lambda::Function")
    with_pillow = [
        f["Properties"]["Handler"] for f in functions.values() if {"Ref": pillow} in f["Properties"].get("Layers", [])
    ]
    assert with_pillow == ["validate.handler.handler"]

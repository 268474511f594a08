"""The workflow as CDK synthesized it: read from the cloud assembly, with its ARNs resolved locally."""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from common.names import DEFAULT_REGION, STACK_NAME
from imgloop import PROJECT_ROOT

# The logical ids of the two state machines start so (ImageLoopWorkflow's construct ids).
LOOP_MACHINE = "WorkflowStateMachine"
BATCH_MACHINE = "WorkflowBatchStateMachine"


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str  # "module.path.function", importable from the lambdas folder
    environment: dict[str, str]


@dataclass(frozen=True)
class Workflow:
    definition: dict[str, Any]
    batch_definition: dict[str, Any]
    functions: dict[str, FunctionSpec]  # by the ARN the definitions name


@dataclass(frozen=True)
class LocalNames:
    """What the stack's own resources are called in the local account."""

    region: str = DEFAULT_REGION
    account: str = "123456789012"
    bucket: str = "imgloop-local-images"
    state_machine: str = STACK_NAME
    batch_state_machine: str = f"{STACK_NAME}-batches"

    @property
    def state_machine_arn(self) -> str:
        return self.machine_arn(self.state_machine)

    @property
    def batch_state_machine_arn(self) -> str:
        return self.machine_arn(self.batch_state_machine)

    def machine_arn(self, name: str) -> str:
        return f"arn:aws:states:{self.region}:{self.account}:stateMachine:{name}"

    def function_arn(self, logical_id: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{logical_id}"


def synthesize(outdir: Path = PROJECT_ROOT / "cdk.out", bundling: bool = False) -> Path:
    """Run the CDK app in this process (needs Node.js for jsii, no AWS credentials).

    Assets are not bundled unless asked (as `cdk ls` does): local runs use this machine's packages, and a
    deploy with the CDK CLI bundles the layers anew. The package test bundles them (tests/package/), to
    import each function from what Lambda would be given."""
    from infra.app import build_app

    build_app(str(outdir), overrides=None if bundling else {"aws:cdk:bundling-stacks": []}).synth()
    return outdir


def template(assembly: Path) -> dict[str, Any]:
    return dict(json.loads((assembly / f"{STACK_NAME}.template.json").read_text()))


class _Resolver:
    def __init__(self, resources: dict[str, Any], names: LocalNames) -> None:
        self._resources = resources
        self._names = names

    def __call__(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self(p)) for p in parts)
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self._attribute(logical_id, attribute)
        return {k: self(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": self._names.region,
            "AWS::AccountId": self._names.account,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        kind = self._resources[name]["Type"]
        if kind == "AWS::S3::Bucket":
            return self._names.bucket
        if kind == "AWS::Lambda::Function":
            return name
        if kind == "AWS::StepFunctions::StateMachine":
            return self._names.machine_arn(self._machine_name(name))
        raise ValueError(f"no local value for Ref {name} ({kind})")

    def _machine_name(self, logical_id: str) -> str:
        return self._names.batch_state_machine if logical_id.startswith(BATCH_MACHINE) else self._names.state_machine

    def _attribute(self, logical_id: str, attribute: str) -> str:
        kind = self._resources[logical_id]["Type"]
        if kind == "AWS::Lambda::Function" and attribute == "Arn":
            return self._names.function_arn(logical_id)
        if kind == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{self._names.bucket}"
        if kind == "AWS::StepFunctions::StateMachine" and attribute == "Name":
            return self._machine_name(logical_id)
        raise ValueError(f"no local value for {logical_id}.{attribute} ({kind})")


def load_workflow(assembly: Path, names: LocalNames) -> Workflow:
    resources = template(assembly)["Resources"]
    resolve = _Resolver(resources, names)
    machines = {k: r for k, r in resources.items() if r["Type"] == "AWS::StepFunctions::StateMachine"}
    batch = [k for k in machines if k.startswith(BATCH_MACHINE)]
    loop = [k for k in machines if k.startswith(LOOP_MACHINE)]
    if len(batch) != 1 or len(loop) != 1 or len(machines) != 2:
        raise ValueError(
            f"expected the loop's and the batch's state machines in the assembly, found {sorted(machines)}"
        )
    definitions = [json.loads(resolve(machines[k]["Properties"]["DefinitionString"])) for k in (*loop, *batch)]
    functions = {}
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function" or "Handler" not in resource["Properties"]:
            continue
        props = resource["Properties"]
        environment = resolve(props.get("Environment", {}).get("Variables", {}))
        functions[names.function_arn(logical_id)] = FunctionSpec(logical_id, props["Handler"], environment)
    return Workflow(definition=definitions[0], batch_definition=definitions[1], functions=functions)

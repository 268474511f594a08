"""`imgloop check-models`: before a run or a deploy, ask Bedrock whether each model is still served, and name
successors."""

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common.catalogue import base_model_id, lookup
from imgloop.aws import aws_session
from imgloop.cli.options import read_event
from imgloop.errors import Command, UsageError, asking_aws


@dataclass(frozen=True)
class ModelCheck:
    role: str
    model_id: str
    status: str  # ACTIVE, LEGACY, UNAVAILABLE or UNKNOWN
    detail: str

    @property
    def line(self) -> str:
        return f"{self.status:<11} {self.role:<9} {self.model_id}: {self.detail}"


def _advice(model_id: str) -> str:
    info = lookup(model_id)
    if info and info.successor:
        extra = f" ({info.successor_note})" if info.successor_note else ""
        return f"; successor: {info.successor}{extra}"
    return ""


def check_model(bedrock: Any, role: str, model_id: str) -> ModelCheck:
    base = base_model_id(model_id)
    try:
        details = bedrock.get_foundation_model(modelIdentifier=base)["modelDetails"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("ResourceNotFoundException", "ValidationException"):
            return ModelCheck(role, model_id, "UNAVAILABLE", f"Bedrock does not serve {base} here{_advice(model_id)}")
        message = error.response.get("Error", {}).get("Message", "")
        return ModelCheck(role, model_id, "UNKNOWN", f"could not ask Bedrock: {code}: {message}")
    except BotoCoreError as error:
        return ModelCheck(role, model_id, "UNKNOWN", f"could not ask Bedrock: {error}")
    status = str(details.get("modelLifecycle", {}).get("status", "UNKNOWN"))
    if status == "ACTIVE":
        return ModelCheck(role, model_id, status, "served")
    return ModelCheck(role, model_id, status, f"Bedrock marks it {status.lower()}{_advice(model_id)}")


def check_models(bedrock: Any, models: dict[str, str]) -> list[ModelCheck]:
    return [check_model(bedrock, role, model_id) for role, model_id in models.items()]


def conclusion(checks: list[ModelCheck]) -> tuple[int, str | None]:
    """The exit code and closing line: a deploy gate passes only when every model was seen served."""
    unknown = [c for c in checks if c.status == "UNKNOWN"]
    unavailable = [c for c in checks if c.status == "UNAVAILABLE"]
    legacy = [c for c in checks if c.status not in ("ACTIVE", "UNKNOWN", "UNAVAILABLE")]
    if unknown and len(unknown) == len(checks):
        return 1, f"nothing was checked: {unknown[0].detail}"
    problems = []
    if unavailable:
        problems.append(f"{len(unavailable)} model(s) not served: move to the successor named above")
    if unknown:
        problems.append(f"{len(unknown)} model(s) could not be checked (see above)")
    if problems:
        return 1, "; ".join(problems)
    if legacy:
        return 0, f"{len(legacy)} model(s) still served but on the way out: plan the move to the successor"
    return 0, None


def add_commands(commands: Any) -> dict[str, Command]:
    check = commands.add_parser("check-models", help="ask Bedrock whether the configured models are still served")
    check.add_argument("--input", type=Path, help="also check the models this input event names")
    check.add_argument("--region", help="the Bedrock region (default: AWS_REGION or your profile's)")
    return {"check-models": asking_aws(_check_models)}


def _check_models(args: argparse.Namespace) -> int:
    from common.errors import InvalidInput

    bedrock = aws_session(args.region).client("bedrock")
    try:
        models = configured_models(args.input)
    except (OSError, ValueError, InvalidInput) as error:
        raise UsageError(str(error)) from None
    checks = check_models(bedrock, models)
    for check in checks:
        print(check.line)
    code, closing = conclusion(checks)
    if closing:
        print(closing, file=sys.stderr if code else sys.stdout)
    return code


def configured_models(event_path: Path | None) -> dict[str, str]:
    """The deployment's default models (cdk.json's context, else the project's defaults), or those an input
    event names, as written: a retired one is what check-models is for (the run itself would replace it)."""
    from common.request import read_request
    from imgloop.settings import deployment_settings

    raw = read_event(event_path) if event_path else {"prompt": "check"}
    if isinstance(raw, dict):
        raw = {k: v for k, v in raw.items() if not k.startswith("output")}
    request = read_request(raw, deployment_settings())
    return {
        "generator": request.generator.model_id,
        "validator": request.validator.model_id,
        "reviser": request.reviser.model_id,
    }

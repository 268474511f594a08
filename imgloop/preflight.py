"""Before a run or a deploy: ask Bedrock whether each model is still served, and name successors."""

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from common.catalogue import base_model_id, lookup


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

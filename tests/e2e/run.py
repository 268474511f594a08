"""make e2e: a real deployment test, for a user with an AWS account (never run by CI or `make test`).

It checks first that AWS takes your credentials, that the region serves the models the stack uses and
grants this account access to them, and that the region is bootstrapped for the CDK. It then prints the
worst-case cost and asks before spending anything (--yes does not ask).

Then it deploys a throwaway copy of the stack under its own name (ImageLoop-e2e-<time>-<random>), beside
any ImageLoop you have, and on it: one cheap run (one image, no prompt revision), one edit (an erase on
tests/events/lake.png), a batch of two lines, and one run started through the API (POST /generations,
SigV4-signed) and followed by GET /generations/{id}. It fetches each run and renders its report into
--out, and at the end, whatever failed, deletes the stack, its buckets (emptied first) and its log groups,
then prints a table of the steps. A run the judge rejects still passes: it shows the loop worked end to
end. Exit code 0 when every step passed, 1 when one failed, 2 when nothing was deployed."""

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, Protocol

from bench.costs import IMAGE, INPUT_TOKENS, OUTPUT_TOKENS
from common.names import STACK_NAME, Outputs
from imgloop.aws import aws_session
from imgloop.cli import main as imgloop
from imgloop.cli.preflight import configured_models
from imgloop.errors import UsageError
from tests.e2e import aws

EVENTS = Path(__file__).parent.parent / "events"

# Each run makes at most one image: one attempt, no revision, one candidate (tests/e2e/test_run.py checks it
# against the request rules).
CHEAP = {"max_retry_attempts": 1, "max_prompt_revisions": 0}
RUN = {"prompt": "A red apple on a white wooden table, soft daylight", **CHEAP}
EDIT = {"prompt": "the lake without the boat, calm open water where the boat was", "mode": "erase", **CHEAP}
EDIT_FILES = ("--image", str(EVENTS / "lake.png"), "--mask", str(EVENTS / "lake_boat_mask.png"))
BATCH_ITEMS = "A blue teacup on a saucer\nA yellow umbrella in the rain\n"


def uploaded(edit: dict[str, Any], bucket: str) -> dict[str, Any]:
    """The edit as `imgloop start --image --mask` sends it; the files' place does not change its models."""
    return {**edit, "source_image": f"s3://{bucket}/uploads/lake.png", "mask_image": f"s3://{bucket}/uploads/mask.png"}


IMAGES = {"run": 1, "edit": 1, "batch": 2, "api": 1}

# Ceilings, not estimates: the edit models' price is taken as an SD3.5 image's plus a quarter (Bedrock's page
# renders its prices client-side), a judge call as 8,000 tokens in (the image or, for an edit, three) and
# 1,000 out, and the stack's own services for half an hour of requests, logs and traces as $0.10.
IMAGE_CEILING_USD = IMAGE.usd * 1.25
JUDGE_CEILING_USD = 8_000 / 1e6 * INPUT_TOKENS.usd + 1_000 / 1e6 * OUTPUT_TOKENS.usd
STACK_CEILING_USD = 0.10


def worst_case_usd() -> float:
    return sum(IMAGES.values()) * (IMAGE_CEILING_USD + JUDGE_CEILING_USD) + STACK_CEILING_USD


@dataclass(frozen=True)
class Result:
    step: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class Deployed:
    session: Any
    stack: str
    outputs: dict[str, str]
    out: Path  # this test's folder: its events, the fetched runs and their reports


class Deployer(Protocol):
    def deploy(self, stack: str) -> dict[str, str]:
        """Deploy the stack under this name; its CloudFormation outputs."""

    def destroy(self, stack: str) -> None:
        """Delete the stack and what it keeps on delete; nothing to do if it was never made."""


Step = Callable[[Deployed], str]  # what it saw, in one line; raises when the step failed


@dataclass(frozen=True)
class Plan:
    """How the test reaches AWS; tests/e2e/test_run.py passes fakes."""

    session: Callable[[str | None], Any]
    preflight: Callable[[Any, dict[str, str]], list[str]]
    deployer: Callable[[Any], Deployer]
    steps: Sequence[tuple[str, Step]]
    confirm: Callable[[str], bool]


def _execution_arn(machine_arn: str, name: str) -> str:
    return f"{machine_arn.replace(':stateMachine:', ':execution:')}:{name}"


def _ended(deployed: Deployed, arn: str) -> str:
    """The run's end, if the loop ran to one (accepted, or not met), and its report written; else raises."""
    found = deployed.session.client("stepfunctions").describe_execution(executionArn=arn)
    name = found["name"]
    report = deployed.out / f"{name}.html"
    if imgloop(["report", arn, "--out", str(report)]) != 0:
        raise RuntimeError(f"`imgloop report {arn}` failed")
    if found["status"] == "SUCCEEDED":
        return f"accepted; {report}"
    if found["status"] == "FAILED" and found.get("error") == "RequirementsNotMet":
        return f"ran to its end, the judge said not met; {report}"
    raise RuntimeError(f"{name} {found['status']}: {found.get('error')}: {found.get('cause')}")


def _start(deployed: Deployed, step: str, event: dict[str, Any], *files: str) -> str:
    name = f"{deployed.stack}-{step}"
    path = deployed.out / f"{step}.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    region = deployed.session.region_name
    started = ["start", "--input", str(path), "--name", name, "--stack", deployed.stack, "--region", region]
    imgloop([*started, *files, "--wait"])  # 1 for a run not met: _ended tells it from a failure
    return _ended(deployed, _execution_arn(deployed.outputs[Outputs.STATE_MACHINE], name))


def run_once(deployed: Deployed) -> str:
    return _start(deployed, "run", RUN)


def edit_once(deployed: Deployed) -> str:
    return _start(deployed, "edit", EDIT, *EDIT_FILES)


def batch_of_two(deployed: Deployed) -> str:
    items, defaults = deployed.out / "batch.txt", deployed.out / "batch-defaults.json"
    items.write_text(BATCH_ITEMS, encoding="utf-8")
    defaults.write_text(json.dumps(CHEAP), encoding="utf-8")
    name = f"{deployed.stack}-batch"
    code = imgloop(
        [
            *("batch", "--input", str(items), "--defaults", str(defaults), "--name", name),
            *("--stack", deployed.stack, "--region", deployed.session.region_name, "--out", str(deployed.out)),
        ]
    )
    # 0: both items accepted, 1: one was not (a judge's no counts); 2: the batch could not run.
    pages = sorted(deployed.out.glob(f"{name}/**/report.html"))
    if code == 2 or not pages:
        raise RuntimeError(f"`imgloop batch` ended with {code} and no report")
    return f"exit code {code}; {pages[0]}"


def through_the_api(deployed: Deployed) -> str:
    name = f"{deployed.stack}-api"
    url = deployed.outputs[Outputs.API_URL]
    status, answer = aws.signed(deployed.session, "POST", f"{url}/generations", {**RUN, "idempotency_key": name})
    if status != 202:
        raise RuntimeError(f"POST /generations answered {status}: {answer}")
    aws.wait_for_generation(deployed.session, url, name)
    return _ended(deployed, answer["executionArn"])


STEPS: tuple[tuple[str, Step], ...] = (
    ("run", run_once),
    ("edit", edit_once),
    ("batch", batch_of_two),
    ("api", through_the_api),
)


def _ask(question: str) -> bool:
    try:
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
    except EOFError:
        return False


def on_aws() -> Plan:
    return Plan(aws_session, aws.preflight, aws.CdkDeployer, STEPS, _ask)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="make e2e", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--yes", action="store_true", help="do not ask before deploying")
    parser.add_argument("--region", help="where to deploy (default: AWS_REGION or your profile's)")
    parser.add_argument("--out", type=Path, default=Path("out"), help="folder for the runs and reports (default: out)")
    return parser


def _models(out: Path) -> dict[str, str]:
    """The stack's default models and the edit's, as check-models reads them."""
    edit = out / "edit-models.json"
    edit.write_text(json.dumps(uploaded(EDIT, "any-bucket")), encoding="utf-8")
    return {**configured_models(None), "edit": configured_models(edit)["generator"]}


def _table(results: list[Result]) -> str:
    width = max(len(r.step) for r in results)
    lines = [f"{r.step:<{width}}  {'PASS' if r.passed else 'FAIL'}  {r.detail}" for r in results]
    return "\n".join([f"{'step':<{width}}  result", *lines])


def _attempt(results: list[Result], step: str, action: Callable[[], str]) -> bool:
    try:
        results.append(Result(step, True, action()))
    except Exception as error:  # every failure is reported in the table, and the next step still runs
        results.append(Result(step, False, f"{type(error).__name__}: {error}"))
        return False
    return True


def main(argv: list[str] | None = None, plan: Plan | None = None) -> int:
    args = _parser().parse_args(argv)
    plan = plan or on_aws()
    try:
        session = plan.session(args.region)
    except UsageError as error:
        print(f"e2e: {error}", file=sys.stderr)
        return 2
    stack = f"{STACK_NAME}-e2e-{datetime.now(UTC):%Y%m%d%H%M%S}-{uuid.uuid4().hex[:4]}"
    out = args.out / stack
    out.mkdir(parents=True, exist_ok=True)
    problems = plan.preflight(session, _models(out))
    if problems:
        print("e2e: not deploying:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    print(
        f"worst case: ${worst_case_usd():.2f} of usage for {sum(IMAGES.values())} images, their judging and the stack"
    )
    if not args.yes and not plan.confirm(f"Deploy {stack} in {session.region_name}, run the steps and delete it?"):
        print("e2e: nothing deployed", file=sys.stderr)
        return 2
    deployer = plan.deployer(session)
    results: list[Result] = []
    try:
        outputs: dict[str, str] = {}

        def deploy() -> str:
            outputs.update(deployer.deploy(stack))
            return stack

        if _attempt(results, "deploy", deploy):
            deployed = Deployed(session, stack, outputs, out)
            for name, step in plan.steps:
                _attempt(results, name, partial(step, deployed))
    finally:
        # Also on Ctrl-C: a stack left behind would go on costing.
        def destroy() -> str:
            deployer.destroy(stack)
            return f"{stack} deleted"

        _attempt(results, "destroy", destroy)
        print(_table(results))
    return 0 if all(r.passed for r in results) else 1

"""What `make e2e` asks of AWS itself: the checks before a deploy, the deploy and teardown of a throwaway
stack, and signed calls to its API."""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from common.catalogue import base_model_id
from common.names import Context
from imgloop import PROJECT_ROOT
from imgloop.aws import stack_outputs
from imgloop.cli.preflight import check_models, conclusion

# The version parameter `cdk bootstrap` writes with its default qualifier; a deploy reads it.
BOOTSTRAP_PARAMETER = "/cdk-bootstrap/hnb659fds/version"


def preflight(session: Any, models: dict[str, str]) -> list[str]:
    """What stops a deploy here: credentials AWS refuses, a model not served or not granted to this account,
    or a region that `cdk bootstrap` never prepared. Empty when all is well."""
    problems = []
    try:
        session.client("sts").get_caller_identity()
    except ClientError as error:
        return [f"AWS refuses these credentials: {error}"]
    bedrock = session.client("bedrock")
    checks = check_models(bedrock, models)
    code, closing = conclusion(checks)
    if code:
        problems += [check.line for check in checks if check.status != "ACTIVE"] + [str(closing)]
    for role, model_id in models.items():
        problems += _access(bedrock, role, model_id)
    try:
        session.client("ssm").get_parameter(Name=BOOTSTRAP_PARAMETER)
    except ClientError:
        problems.append(f"{session.region_name} is not bootstrapped for the CDK: npx aws-cdk@2 bootstrap")
    return problems


def _access(bedrock: Any, role: str, model_id: str) -> list[str]:
    """Whether this account may invoke the model: a model served in the region may still need its access
    granted (Bedrock console, Model access) or its agreement accepted."""
    base = base_model_id(model_id)
    try:
        found = bedrock.get_foundation_model_availability(modelId=base)
    except ClientError as error:
        return [f"{role} {model_id}: could not ask Bedrock about access: {error}"]
    refusals = {
        "authorization": found.get("authorizationStatus"),
        "entitlement": found.get("entitlementAvailability"),
        "region": found.get("regionAvailability"),
        "agreement": found.get("agreementAvailability", {}).get("status"),
    }
    wrong = [f"{what} {value}" for what, value in refusals.items() if value not in ("AUTHORIZED", "AVAILABLE")]
    return [f"{role} {model_id}: no access in this account ({', '.join(wrong)})"] if wrong else []


class CdkDeployer:
    """Deploys the stack under another name with the CDK CLI; tears it down with CloudFormation, then removes
    what the stack keeps on delete (its buckets and log groups are RETAIN)."""

    def __init__(self, session: Any) -> None:
        self._session = session

    def deploy(self, stack: str) -> dict[str, str]:
        environment = {
            **os.environ,
            "AWS_REGION": self._session.region_name,
            "AWS_DEFAULT_REGION": self._session.region_name,
            # cdk.json's app command is `python3 app.py`: this virtualenv's, which has the CDK app's packages.
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        subprocess.run(
            [
                *("npx", "--yes", "aws-cdk@2", "deploy", stack, "--require-approval", "never"),
                *("--context", f"{Context.STACK_NAME}={stack}"),
            ],
            cwd=PROJECT_ROOT,
            env=environment,
            check=True,
        )
        return stack_outputs(self._session.client("cloudformation"), stack)

    def destroy(self, stack: str) -> None:
        cloudformation = self._session.client("cloudformation")
        try:
            kept = _retained(cloudformation, stack)
        except ClientError as error:
            if "does not exist" in str(error):
                return  # the deploy failed before CloudFormation made the stack
            raise
        s3, logs = self._session.client("s3"), self._session.client("logs")
        for bucket in kept["AWS::S3::Bucket"]:
            _empty(s3, bucket)
        cloudformation.delete_stack(StackName=stack)
        cloudformation.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig={"Delay": 15})
        for bucket in kept["AWS::S3::Bucket"]:
            # The access log bucket may have got a last log line since it was emptied.
            _empty(s3, bucket)
            s3.delete_bucket(Bucket=bucket)
        for group in kept["AWS::Logs::LogGroup"]:
            logs.delete_log_group(logGroupName=group)


def _retained(cloudformation: Any, stack: str) -> dict[str, list[str]]:
    kept: dict[str, list[str]] = {"AWS::S3::Bucket": [], "AWS::Logs::LogGroup": []}
    for page in cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack):
        for resource in page["StackResourceSummaries"]:
            if resource["ResourceType"] in kept and resource.get("PhysicalResourceId"):
                kept[resource["ResourceType"]].append(resource["PhysicalResourceId"])
    return kept


def _empty(s3: Any, bucket: str) -> None:
    """Delete every version and delete marker (the images bucket is versioned)."""
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        doomed = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if doomed:
            s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})


def signed(session: Any, method: str, url: str, body: Any = None) -> tuple[int, Any]:
    """Call the stack's API with SigV4 (its default authorization, imgloop:api_auth "iam"): status and JSON."""
    data = json.dumps(body).encode() if body is not None else None
    request = AWSRequest(method=method, url=url, data=data, headers={"Content-Type": "application/json"})
    SigV4Auth(session.get_credentials(), "execute-api", session.region_name).add_auth(request)
    prepared = request.prepare()
    sent = urllib.request.Request(prepared.url, data=data, headers=dict(prepared.headers), method=method)
    try:
        with urllib.request.urlopen(sent, timeout=30) as answer:
            return answer.status, json.loads(answer.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_for_generation(session: Any, api_url: str, name: str, poll_seconds: float = 10.0) -> dict[str, Any]:
    """GET /generations/{id} until the run has ended; its last answer."""
    while True:
        status, answer = signed(session, "GET", f"{api_url}/generations/{name}")
        if status != 200:
            raise RuntimeError(f"GET /generations/{name} answered {status}: {answer}")
        if answer.get("status") != "RUNNING":
            return dict(answer)
        time.sleep(poll_seconds)

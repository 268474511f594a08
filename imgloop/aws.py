"""AWS sessions for the CLI, and the deployed stack found from its CloudFormation outputs."""

import os
from typing import Any

from botocore.exceptions import ClientError

from imgloop.errors import UsageError

NO_REGION = (
    "no AWS region: pass --region (e.g. --region us-west-2), set AWS_REGION, "
    "or set a region in your profile with `aws configure`"
)
NO_CREDENTIALS = (
    "no AWS credentials: run `aws configure` (or `aws sso login --profile NAME` and set AWS_PROFILE=NAME), "
    "or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


def arn_region(arn: str) -> str:
    """The region of an execution ARN: arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME."""
    parts = arn.split(":")
    if len(parts) != 8 or parts[0] != "arn" or parts[2] != "states" or parts[5] != "execution" or not parts[3]:
        raise UsageError(f"not an execution ARN: {arn!r} (arn:aws:states:REGION:ACCOUNT:execution:MACHINE:NAME)")
    return parts[3]


def aws_session(region: str | None, arn: str | None = None) -> Any:
    """A boto3 session with a region and credentials, or a UsageError naming what is missing.

    An execution lives in the region its ARN names, so --region, if given, has to agree with it.
    """
    import boto3

    if arn:
        home = arn_region(arn)
        if region and region != home:
            raise UsageError(f"--region {region}, but the execution's ARN is in {home}")
        region = home
    # boto3 reads AWS_DEFAULT_REGION but not AWS_REGION, the name Lambda and the AWS CLI v2 also use.
    session = boto3.session.Session(region_name=region or os.environ.get("AWS_REGION") or None)
    if not session.region_name:
        raise UsageError(NO_REGION)
    if session.get_credentials() is None:
        raise UsageError(NO_CREDENTIALS)
    return session


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    [found] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in found.get("Outputs", [])}


def deployed_outputs(session: Any, stack: str, *needed: str) -> dict[str, str]:
    """The deployed stack's CloudFormation outputs, or a UsageError saying there is no such stack, or that
    it lacks an output this version needs (it was deployed by an older one)."""
    try:
        outputs = stack_outputs(session.client("cloudformation"), stack)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ValidationError":
            raise
        raise UsageError(
            f"no stack {stack} in {session.region_name}: deploy it first (docs/deploying.md), "
            "or pass --stack / --region"
        ) from None
    for output in needed:
        if output not in outputs:
            raise UsageError(f"stack {stack} has no {output} output: deploy this version of imgloop")
    return outputs

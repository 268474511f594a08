"""Least privilege: which Bedrock models and which S3 objects each function may touch."""

from aws_cdk import CfnElement, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

from infra.nag import acknowledge
from infra.storage import STAGING_PREFIX

_PROFILE_PREFIXES = ("global.", "us.", "eu.", "apac.", "jp.", "au.", "ca.", "us-gov.")


def model_arns(stack: Stack, model_ids: list[str]) -> list[str]:
    """The ARNs InvokeModel needs for each allowed id.

    A cross-region inference profile id needs its profile ARN and the foundation model's ARN in
    every region the profile may route to; Bedrock decides the region per call, hence the '*'."""
    arns: list[str] = []
    for model_id in model_ids:
        if model_id.startswith(_PROFILE_PREFIXES):
            base = model_id.split(".", 1)[1]
            arns.append(f"arn:{stack.partition}:bedrock:{stack.region}:{stack.account}:inference-profile/{model_id}")
            arns.append(f"arn:{stack.partition}:bedrock:*::foundation-model/{base}")
        else:
            arns.append(f"arn:{stack.partition}:bedrock:{stack.region}::foundation-model/{model_id}")
    return arns


def allow_models(role: iam.IRole, stack: Stack, model_ids: list[str]) -> None:
    arns = model_arns(stack, model_ids)
    policy = iam.Policy(
        stack,
        f"{role.node.scope.node.id if role.node.scope else 'Role'}InvokeModels",
        statements=[
            iam.PolicyStatement(actions=["bedrock:InvokeModel"], resources=arns),
            # Third-party models (Stability, Anthropic) are sold through AWS Marketplace: the first
            # call in an account subscribes to the offer. These actions take no resource ARN.
            iam.PolicyStatement(
                actions=["aws-marketplace:ViewSubscriptions", "aws-marketplace:Subscribe"], resources=["*"]
            ),
        ],
    )
    policy.attach_to_role(role)
    for arn in arns:
        if ":bedrock:*::" in arn:
            _acknowledge_resource(
                policy, stack, arn, "a cross-region inference profile may route to this model in any of its regions"
            )
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "aws-marketplace:ViewSubscriptions and Subscribe take no resource ARN; they only let the first "
        "Bedrock call accept the model's Marketplace offer",
    )


def allow_quota_reads(role: iam.IRole, stack: Stack) -> None:
    """Save reads the account's Bedrock quotas when it opens a batch, to plan its concurrency."""
    policy = iam.Policy(
        stack,
        "SaveReadsQuotas",
        statements=[
            iam.PolicyStatement(
                actions=["servicequotas:ListServiceQuotas", "servicequotas:ListAWSDefaultServiceQuotas"],
                resources=["*"],
            )
        ],
    )
    policy.attach_to_role(role)
    acknowledge(
        policy,
        "AwsSolutions-IAM5[Resource::*]",
        "Service Quotas' list actions take no resource ARN; they only read quota values",
    )


def logical_id(construct: IConstruct) -> str:
    """The CloudFormation logical id, as cdk-nag names it in a finding."""
    child = construct.node.default_child
    assert isinstance(child, CfnElement)
    return Stack.of(construct).resolve(child.logical_id)  # type: ignore[no-any-return]


def _acknowledge_resource(construct: IConstruct, stack: Stack, arn: str, reason: str) -> None:
    shown = arn.replace(str(stack.partition), "<AWS::Partition>").replace(str(stack.account), "<AWS::AccountId>")
    shown = shown.replace(str(stack.region), "<AWS::Region>")
    acknowledge(construct, f"AwsSolutions-IAM5[Resource::{shown}]", reason)


# What each function does in the bucket. Keys are made per execution, so rights are on the
# bucket's objects (or, for Generate's writes, on the staging prefix only).
S3_ACTIONS: dict[str, list[tuple[list[str], str]]] = {
    # Generate writes only to staging, and reads the image an edit starts from.
    "generate": [(["s3:PutObject"], STAGING_PREFIX + "*"), (["s3:GetObject"], "*")],
    "save": [(["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], "*")],
    "validate": [(["s3:GetObject", "s3:PutObject"], "*")],
    "revise": [(["s3:GetObject"], "*")],
    "status": [(["s3:GetObject"], "*")],  # presigns the winning image's URL
}


def allow_objects(role: iam.IRole, name: str, bucket: s3.IBucket) -> None:
    policy = iam.Policy(
        bucket.stack,
        f"{role.node.scope.node.id if role.node.scope else name}Objects",
        statements=[
            iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(pattern)])
            for actions, pattern in S3_ACTIONS[name]
        ],
    )
    if name == "save":
        # Closing a run lists its folder and what staging still holds for it.
        policy.add_statements(iam.PolicyStatement(actions=["s3:ListBucket"], resources=[bucket.bucket_arn]))
    policy.attach_to_role(role)
    for pattern in sorted({pattern for _, pattern in S3_ACTIONS[name]}):
        acknowledge(
            policy,
            f"AwsSolutions-IAM5[Resource::<{logical_id(bucket)}.Arn>/{pattern}]",
            "object keys are made per execution (prefix/execution/rNN-aNN.png) or name an upload to edit; the "
            "grant covers only this stack's bucket (and the allowed extra buckets) and the actions this function needs",
        )

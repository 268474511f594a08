"""Names shared by the stack, the functions, the tool and the bench, each written once here.

This module lives with the functions' code, since their code asset holds only lambdas/, and imports
nothing, so the tool and the bench read it without loading the CDK. Deployment settings a user
chooses (cdk.json's context) override the defaults below; see docs/architecture.md."""

from typing import Final

STACK_NAME: Final = "ImageLoop"
SERVICE_NAME: Final = "imgloop"
METRICS_NAMESPACE: Final = "ImageLoop"
# Where a run goes when neither the command, the environment nor a profile names a region.
DEFAULT_REGION: Final = "us-west-2"


class Outputs:
    """The stack's CloudFormation outputs, by which the CLI finds what it deployed."""

    API_URL: Final = "ApiUrl"
    API_KEY_ID: Final = "ApiKeyId"
    BUCKET: Final = "BucketName"
    STATE_MACHINE: Final = "StateMachineArn"
    BATCH_STATE_MACHINE: Final = "BatchStateMachineArn"


class Context:
    """The keys of cdk.json's context: what a deployment chooses."""

    GENERATOR_MODEL: Final = "imgloop:generator_model_id"
    VALIDATOR_MODEL: Final = "imgloop:validator_model_id"
    REVISER_MODEL: Final = "imgloop:reviser_model_id"
    EXTRA_BUCKETS: Final = "imgloop:extra_output_buckets"
    POWERTOOLS_LAYER: Final = "imgloop:powertools_layer_arn"
    ALLOWED_MODELS: Final = "imgloop:allowed_models"
    BATCH_CONCURRENCY: Final = "imgloop:batch_concurrency"  # items of a batch run at once, unless the batch says
    # Quotas and model latencies a batch's plan uses in place of the account's (common.quotas.PlanSettings).
    BATCH_PLAN: Final = "imgloop:batch_plan"
    API_AUTH: Final = "imgloop:api_auth"  # "iam" (SigV4, the default) or "api_key"
    MAX_COST: Final = "imgloop:max_cost_usd"  # a run's spending cap when its request sets none
    DAILY_SPEND_ALARM: Final = "imgloop:daily_spend_alarm_usd"  # the model spend per day that raises the alarm
    ALARM_EMAIL: Final = "imgloop:alarm_email"  # an address the alarm topic e-mails (confirmed by its owner)
    NOTIFY_COMPLETIONS: Final = "imgloop:notify_completions"  # true: each run's and batch's end on the topic
    # Another name for the stack than STACK_NAME, so a second copy (make e2e's throwaway one) deploys beside it.
    STACK_NAME: Final = "imgloop:stack_name"


# Images sent to be edited (the CLI's --image and --mask, the API's POST /uploads); a lifecycle rule expires them.
UPLOADS_PREFIX: Final = "uploads"

SD35_LARGE: Final = "stability.sd3-5-large-v1:0"
CLAUDE_SONNET: Final = "us.anthropic.claude-sonnet-4-6"
# The models a deployment uses when cdk.json's context names none (imgloop:generator_model_id, ...).
DEFAULT_GENERATOR_MODEL: Final = SD35_LARGE
DEFAULT_VALIDATOR_MODEL: Final = CLAUDE_SONNET
DEFAULT_REVISER_MODEL: Final = CLAUDE_SONNET


class MetricNames:
    """The project's own metrics (Powertools EMF) and their dimensions, which the dashboard reads."""

    GENERATED: Final = "ImageGenerated"
    REFUSED: Final = "GenerationRefused"
    ACCEPTED: Final = "ImageAccepted"
    REJECTED: Final = "ImageRejected"
    REVISED: Final = "PromptRevised"
    SPEND: Final = "SpendUSD"  # what model calls cost, in dollars
    ATTEMPTS_TO_ACCEPTANCE: Final = "AttemptsToAcceptance"
    MODEL: Final = "Model"
    ROLE: Final = "Role"  # image, judge, revise or translate


# The model spend per day over which the alarm goes off, unless cdk.json (imgloop:daily_spend_alarm_usd) says.
DEFAULT_DAILY_SPEND_ALARM_USD: Final = 20.0

# The fixed concurrency batches ran at before each batch planned its own from the models' quotas (the plan's
# unconfirmed default quota gives it again); the bench compares the plan with it. And the most.
DEFAULT_BATCH_CONCURRENCY: Final = 4
MAX_BATCH_CONCURRENCY: Final = 100

# The files of a run's folder (in S3 and on this machine) and of a batch execution's.
MANIFEST_FILE: Final = "manifest.json"
EXECUTION_FILE: Final = "execution.json"
BATCH_MANIFEST_FILE: Final = "manifest.jsonl"

# The tools the judge and the reviser answer through (Converse's forced tool use).
JUDGE_TOOL: Final = "record_verdict"
REVISER_TOOL: Final = "propose_prompt"


class CallTags:
    """The keys of the tags on each Converse call (its requestMetadata), by which Bedrock's invocation logs
    can be filtered: what the call is for, and for a rewrite the image model it writes for."""

    ROLE: Final = "imgloop:role"  # judge, judge-edit, revise or translate
    TARGET: Final = "imgloop:target"  # the image model a rewritten prompt is for
    STRENGTH: Final = "imgloop:strength"  # the image-to-image strength the last images were made at

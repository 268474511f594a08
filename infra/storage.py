"""The bucket that holds every image and manifest of the stack's runs, and its access log bucket."""

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_s3 as s3
from constructs import Construct

from common import keys
from common.names import UPLOADS_PREFIX
from infra.nag import acknowledge

# The functions build staging keys under this prefix; the lifecycle rule below expires it.
STAGING_PREFIX = f"{keys.STAGING_PREFIX}/"
# Images sent to be edited (under UPLOADS_PREFIX). Runs read them at their start and at every attempt,
# and `imgloop fetch` copies them beside the run's images, so they are kept a week.
UPLOADS_DAYS = 7


def _private_bucket(scope: Construct, id: str, **settings: Any) -> s3.Bucket:
    """A bucket no one outside the account reads: public access blocked, encrypted, TLS only, kept."""
    return s3.Bucket(
        scope,
        id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        removal_policy=RemovalPolicy.RETAIN,
        **settings,
    )


class ImageStorage(Construct):
    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        self.access_logs = _private_bucket(
            self,
            "AccessLogs",
            lifecycle_rules=[s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(365))],
        )
        acknowledge(
            self.access_logs, "AwsSolutions-S1", "This is the access log bucket; logging it to itself would loop."
        )
        self.bucket = _private_bucket(
            self,
            "Images",
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="images/",
            lifecycle_rules=[
                # Staging holds an image between Generate and Save; a run that ends files what is left.
                s3.LifecycleRule(id="ExpireStaging", prefix=STAGING_PREFIX, expiration=Duration.days(30)),
                s3.LifecycleRule(
                    id="ExpireUploads", prefix=f"{UPLOADS_PREFIX}/", expiration=Duration.days(UPLOADS_DAYS)
                ),
                s3.LifecycleRule(id="ExpireOldVersions", noncurrent_version_expiration=Duration.days(30)),
                s3.LifecycleRule(id="AbortUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
        )

"""cdk-nag 3.x (pinned in requirements.txt): the AwsSolutions pack runs at every synthesis, and
each acknowledgment names the exact finding and says why it stands."""

from aws_cdk import Acknowledgment, App, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def check(app: App) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def acknowledge(construct: IConstruct, finding: str, reason: str) -> None:
    # Plugin findings are acknowledged as "<plugin>::<finding>" (the form cdk-nag's report prints).
    Validations.of(construct).acknowledge(Acknowledgment(id=f"AwsSolutions::{finding}", reason=reason))

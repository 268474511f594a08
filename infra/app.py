"""Build the CDK app with cdk.json's context, for the CDK CLI and for in-process synthesis."""

import json
from typing import Any

from aws_cdk import App

from common.names import STACK_NAME, Context
from infra.constants import ROOT
from infra.nag import check
from infra.stack import ImageLoopStack


def project_context() -> dict[str, Any]:
    return dict(json.loads((ROOT / "cdk.json").read_text())["context"])


def build_app(outdir: str | None = None, overrides: dict[str, Any] | None = None) -> App:
    # The CDK CLI passes cdk.json's context itself; in-process synthesis (tests, local runs) reads it here.
    app = App(outdir=outdir, context={**project_context(), **(overrides or {})})
    name = app.node.try_get_context(Context.STACK_NAME) or STACK_NAME
    ImageLoopStack(app, name, description="Images that meet a written requirement (Bedrock + Step Functions)")
    check(app)
    return app

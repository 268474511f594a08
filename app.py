#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy` run this."""

from infra.app import build_app

build_app().synth()

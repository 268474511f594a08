"""The CDK app: one stack composed of storage, workflow and API constructs."""

import os

# jsii's Node process warns on stderr about the Node release it runs on (end of life, untested), and
# the Python side repeats that banner line by line as bytes literals, into `cdk synth` and the CLI.
# Every import of the CDK goes through this package, so the silencing is set before jsii starts.
# docs/index.md (Quick start) says which Node releases work.
for _name, _value in (
    ("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20"),
    ("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1"),
    ("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1"),
):
    os.environ.setdefault(_name, _value)

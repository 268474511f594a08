"""Running the workflow on this machine: the synthesized definition on moto, the real handlers
in-process, and a Bedrock stand-in."""

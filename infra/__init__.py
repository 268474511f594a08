"""The CDK app: one stack composed of a storage and a workflow construct."""

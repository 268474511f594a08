"""Logger and metrics shared by the functions, configured by POWERTOOLS_* variables.

No Powertools Tracer: it imports the X-Ray SDK, which builds its recorder at import, about 120 ms of
every cold start (docs/performance.md). Lambda's active tracing still puts each invocation, with its
initialization, in the execution's X-Ray trace beside the state machine's own segments; what is not
traced is each call a function makes to Bedrock and S3 (the logs have the model calls' outcomes)."""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

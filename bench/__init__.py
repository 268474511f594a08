"""`make bench`: imgloop beside the seed's single-Lambda loop and the models' own latency.

Everything runs in one process against one Bedrock stand-in (imgloop.local.standin) with a latency mode
added from here (bench.latency): the same latencies, verdicts and prompts for every contender. Nothing under
bench/ is product code; the reference loop lives in bench/reference/.
"""

import os

# The project's modules create their Powertools logger when first imported, and the reference imports some
# of them before any function runs: keep them at the local runner's level (WARNING), so that no contender
# pays for INFO logs the others do not write.
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")

from common.names import METRICS_NAMESPACE, SERVICE_NAME

os.environ.setdefault("POWERTOOLS_SERVICE_NAME", SERVICE_NAME)
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", METRICS_NAMESPACE)

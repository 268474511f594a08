"""A batch's spending cap: the batch is refused before any item runs when its worst case is over it."""

from common.batches import BatchItem
from common.errors import InvalidInput
from common.lifecycle import check_request
from common.prices import Unpriced
from common.settings import Settings
from common.spend import estimate


def check_batch_cap(cap: float | None, items: list[BatchItem], settings: Settings) -> None:
    """InvalidInput naming both figures when the items that will run could, all budgets used, cost more
    than the cap. An item its run would refuse, or one done before, makes no model call."""
    if cap is None:
        return
    worst = 0.0
    for item in items:
        if item.request is None or item.skip:
            continue
        try:
            request, _ = check_request(item.request, settings)
            worst += estimate(request).worst_case_usd
        except InvalidInput:
            continue
        except Unpriced as error:
            raise InvalidInput(f"max_cost_usd: cannot be kept: {error} (item {item.id})") from None
    if worst > cap:
        raise InvalidInput(
            f"max_cost_usd: the batch's worst case is ${worst:.4f}, over its cap of ${cap:.4f}; lower the "
            "per-item budget (max_retry_attempts, max_prompt_revisions, candidates) or raise the cap"
        )

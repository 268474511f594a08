"""The stand-in's triggers keyed by what a call is about, so a test can aim at chosen items of a batch
whatever order they run in: the scenario's *_first counters count calls across every item."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Triggers:
    # The image model's content filter refuses every prompt that holds one of these (any case).
    refuse_words: tuple[str, ...] = ()
    # The judge fails every image whose requirement holds one of these: the item uses up its budget.
    reject_words: tuple[str, ...] = ()
    # The first K calls about each prompt (image model) or requirement (judge, reviser) are throttled:
    # a storm across every item, in which no call is throttled more than K times.
    throttle_each: int = 0

    def refuses(self, prompt: str) -> bool:
        return _holds(prompt, self.refuse_words)

    def rejects(self, requirement: str) -> bool:
        return _holds(requirement, self.reject_words)


def _holds(text: str, words: tuple[str, ...]) -> bool:
    folded = text.casefold()
    return any(word.casefold() in folded for word in words)

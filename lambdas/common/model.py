"""The bases of every model the functions read or write."""

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, RootModel

# Built at first use rather than at import (`defer_build`): a function's cold start pays only for the
# models it reads, not for every model of `common` it imports with them (the request and its families,
# the batches, Save's union of actions, the price table). docs/performance.md measures it.
_DEFERRED = ConfigDict(defer_build=True)

T = TypeVar("T")


class Model(BaseModel):
    model_config = _DEFERRED


class Root(RootModel[T], Generic[T]):
    """A root model, deferred alike (parametrizing RootModel itself would build the union at import)."""

    model_config = _DEFERRED

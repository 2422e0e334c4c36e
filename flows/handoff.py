"""Large values handed between the flow's tasks by a small key, not as task arguments.

Prefect walks every argument of a task (to find futures in it) and every return value it keeps: for a whole
`Ingested` at a thousand returns that is seconds of pure overhead. The tasks run in the flow's process (the
default thread pool), so they leave their results here and pass each other a key; the flow clears the keys
of its run when it ends, whatever the end.
"""

from __future__ import annotations

import threading
import uuid
from typing import TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_values: dict[str, object] = {}


def put(value: object) -> str:
    """Keep `value`; return the key a later task takes it back with."""
    key = uuid.uuid4().hex
    with _lock:
        _values[key] = value
    return key


def get(key: str, kind: type[T]) -> T:
    """The value kept under `key`, checked to be a `kind`."""
    with _lock:
        value = _values[key]
    if not isinstance(value, kind):
        raise TypeError(f"handoff {key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def drop(*keys: str) -> None:
    """Forget the values of a finished run."""
    with _lock:
        for key in keys:
            _values.pop(key, None)


def size() -> int:
    """How many values are kept (a finished run leaves none)."""
    with _lock:
        return len(_values)

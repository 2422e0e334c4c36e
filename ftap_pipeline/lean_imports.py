"""What `ftap check` and `ftap run` leave unimported: a check must answer in about a second on a porteur's
PC, and a run's start is the part of its time that does not shrink with the number of returns.

Pandera looks for every optional dataframe backend when it builds its models: with Dask installed (the
orchestration extra, for `ftap run --task-runner dask`) that alone imports `dask.dataframe`, about 0.3 s,
and with hypothesis installed (the tests) its strategies import it, about 0.1 s. Neither command uses
them (a Dask cluster is reached through `distributed`, which does not import `dask.dataframe`), so while
they run those two look absent; then the block is lifted, and a later import in the same process (a
test) works as usual.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator

#: Modules that pandera imports only when they are installed, and that a check never needs.
OPTIONAL_BACKENDS = ("dask.dataframe", "hypothesis")


@contextlib.contextmanager
def without_optional_backends() -> Iterator[None]:
    """Make the optional backends not imported yet look absent (`sys.modules[name] = None` makes an import
    raise ImportError, which pandera takes for "not installed") for the duration of the block."""
    blocked = [name for name in OPTIONAL_BACKENDS if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]

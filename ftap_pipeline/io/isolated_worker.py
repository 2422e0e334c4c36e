"""`python -m ftap_pipeline.io.isolated_worker`: a reading process started with `subprocess`, where
`multiprocessing` may not start one (in a daemonic process, such as a Dask worker).

It reads on stdin two pickles: its parent's import path, then the job `(fn, paths, cpu_seconds)`. It answers
on stdout with pickled pairs: `("ready", None)` once the job is loaded, then `("value", result)` for each
file as soon as it is read, or `("error", exception)` for a bug. The parent knows from them which file a
dead or stuck process was reading. It imports only the standard library and `isolation` before the job,
which brings the parser's own imports.
"""

from __future__ import annotations

import os
import pickle
import sys
from typing import IO

from ftap_pipeline.io.isolation import apply_each


def main() -> int:
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever the parser prints goes to stderr, not to the parent
    source = sys.stdin.buffer
    try:
        sys.path[:] = pickle.load(source)
        fn, paths, cpu_seconds = pickle.load(source)
        _answer(answers, "ready", None)
        for value in apply_each(fn, paths, cpu_seconds):
            _answer(answers, "value", value)
    except Exception as exc:  # noqa: BLE001 - a bug in the parser (or a job that cannot load): the parent raises it
        _answer(answers, "error", exc)
    answers.close()
    return 0


def _answer(answers: IO[bytes], kind: str, value: object) -> None:
    try:
        data = pickle.dumps((kind, value))
    except Exception as exc:  # noqa: BLE001 - an answer that cannot travel is a bug to surface, not a crash
        data = pickle.dumps(("error", RuntimeError(f"réponse non transmissible ({kind}) : {exc!r}")))
    answers.write(data)
    answers.flush()


if __name__ == "__main__":
    sys.exit(main())

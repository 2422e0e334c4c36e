"""The one exception of the pipeline's inputs: something that cannot be read, named by its finding slug.

A parser, a reader or the référentiel check raise it; the caller turns it into a `Finding` (a cell, a
line or a whole file turned away). Its message is its rule's template filled with the values given, like
any finding's. It crosses worker processes, so it pickles with all its fields.
"""

from __future__ import annotations

from collections.abc import Mapping

from ftap_pipeline.contract.findings import Finding, message


class InputError(ValueError):
    """An input that cannot be used: its finding slug, its French message, and where it applies.

    `field` names the value at fault when the error concerns one value of a line (a Chorus column);
    `findings` lists every problem when one error stands for many (the référentiel's cells)."""

    slug: str
    message: str
    field: str
    findings: tuple[Finding, ...]

    def __init__(self, slug: str, values: Mapping[str, object] | None = None, /, *, field: str = "",
                 findings: tuple[Finding, ...] = ()) -> None:
        self._set(slug, message(slug, **(values or {})), field, findings)

    def _set(self, slug: str, text: str, field: str, findings: tuple[Finding, ...]) -> None:
        super().__init__(text)
        self.slug, self.message, self.field, self.findings = slug, text, field, findings

    def __reduce__(self) -> tuple[object, ...]:
        return _rebuild, (self.slug, self.message, self.field, self.findings)


def _rebuild(slug: str, text: str, field: str, findings: tuple[Finding, ...]) -> InputError:
    error = InputError.__new__(InputError)
    error._set(slug, text, field, findings)
    return error

"""The one exception of the pipeline's inputs: something that cannot be read, named by its finding slug.

A parser, a reader or the référentiel check raise it; the caller turns it into a `Finding` (a cell, a
line or a whole file turned away). It crosses worker processes, so it pickles with all its fields.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ftap_pipeline.contract.findings import Finding


class InputError(ValueError):
    """An input that cannot be used: its finding slug, a French message, and where it applies.

    `field` names the value at fault when the error concerns one value of a line (a Chorus column);
    `findings` lists every problem when one error stands for many (the référentiel's cells)."""

    def __init__(self, slug: str, message: str, *, field: str = "", findings: tuple[Finding, ...] = ()) -> None:
        super().__init__(message)
        self.slug = slug
        self.message = message
        self.field = field
        self.findings = findings

    def __reduce__(self) -> tuple[object, ...]:
        return _rebuild, (self.slug, self.message, self.field, self.findings)


def _rebuild(slug: str, message: str, field: str, findings: tuple[Finding, ...]) -> InputError:
    return InputError(slug, message, field=field, findings=findings)

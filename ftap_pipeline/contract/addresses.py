"""What counts as an e-mail address the pipeline sends to: one rule for the settings and the messages' recipients."""

from __future__ import annotations

import re

#: A plain ASCII address, as any relay accepts it without SMTPUTF8: dot-atoms on the left, host names on the right.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z]{{2,63}}", re.ASCII)


def is_mail_address(text: str) -> bool:
    """A simple, strict check: one `local@domain.tld`, no display name, no spaces, no comments, no IP literal."""
    return len(text) <= 254 and bool(_ADDRESS.fullmatch(text)) and len(text.partition("@")[0]) <= 64

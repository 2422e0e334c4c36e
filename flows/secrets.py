"""The SMTP password from the Prefect Secret block `ftap-smtp-password`, when the environment has none."""

from __future__ import annotations

from typing import cast

from ftap_pipeline.settings import PASSWORD_BLOCK


def smtp_password_from_block() -> str | None:
    """The block's value; None when it does not exist (the settings then say what is missing)."""
    from prefect.blocks.system import Secret

    try:
        block = cast(Secret[str], Secret.load(PASSWORD_BLOCK, _sync=True))  # type: ignore[call-arg]  # sync caller
    except ValueError:  # Prefect's "Unable to find block document named …"
        return None
    value = block.get()
    return value if isinstance(value, str) and value else None

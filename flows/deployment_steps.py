"""The deployments' pull step: the working directory of a run, set from where the code is, not from a variable.

A worker runs each flow in a temporary folder of its own. The flows are imported from the installed package
(module entrypoints), so the code is found wherever that folder is; only the default `inputs/` and
`outputs/` are relative, and they must mean the project's. This step finds the project's folder from the
installed package itself: nothing to set on the worker, nothing that can silently be empty.
"""

from __future__ import annotations

import os
from pathlib import Path

import flows

#: A project's folder holds the deployments' file beside the flows' package.
MARKER = "prefect.yaml"


def project_directory() -> Path | None:
    """The checkout the flows are installed from (`pip install -e .`), or None for a packaged install."""
    root = Path(flows.__file__).resolve().parent.parent
    return root if (root / MARKER).is_file() else None


def enter_project() -> dict[str, str]:
    """Move into the project's folder; with a packaged install, stay where the worker started the run, and
    the run then asks for absolute `inputs` and `outputs` (parameters, or FTAP_INPUTS and FTAP_OUTPUTS)."""
    root = project_directory()
    if root is not None:
        os.chdir(root)
    return {"directory": os.getcwd()}

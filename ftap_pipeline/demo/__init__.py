"""A realistic, deterministic demo input set: référentiel, quarterly returns and Chorus extracts.

Twelve projects are simulated from a short description each (dates, cost, co-financing, themes):
a financing plan, engagements juridiques with postes and payments, savings and indicators. The
returns are the cumulative situations of that simulation at each quarter's end, and the Chorus
extracts are its movements, so the three inputs agree except where a discrepancy is injected on
purpose. A seeded `random.Random` and no clock: two runs write byte-identical files.

By job: `specs` (the fixed portfolio and fault plan), `simulation` (engagements and payments),
`returns` (a return's contents), `faults` (what is spoiled on purpose), `referentiel` and
`chorus` (the other two inputs' contents), `generate` (the writing, through `ftap_pipeline.io`).
This package re-exports the public names callers used when it was one module.
"""

from __future__ import annotations

from ftap_pipeline.demo.chorus import AE_FILE, CP_FILE
from ftap_pipeline.demo.generate import DemoSummary, write_demo
from ftap_pipeline.demo.specs import (
    ABSENT_PROJECT,
    AVEC_ANOMALIES,
    AVENANT,
    AVENANT_DATE,
    BAD_LINES_PROJECT,
    COMITES,
    CONTRACT_DATE,
    CONTRACT_ENVELOPES,
    CORRECTION_PROJECT,
    CUTOFF,
    DAMAGED_PERIOD,
    DAMAGED_PROJECT,
    ENVELOPE_YEARS,
    EXTRACTION,
    FTAP_ACTIVITE,
    FTAP_CF,
    GAP_PROJECT,
    MISSING_PROJECT,
    NOM,
    OTHER_ACTIVITE,
    PERIOD,
    REJETEE,
    REMPLACEE,
    RETENUE,
    SEED,
    SPECS,
    SUPERSEDED_PROJECT,
    TYPO_ID,
    TYPO_PROJECT,
    WITHDRAWAL_PROJECT,
)
from ftap_pipeline.io.chorus_csv_writer import AE_HEADER, CHORUS_ENCODING, CP_HEADER

__all__ = [
    "ABSENT_PROJECT",
    "AE_FILE",
    "AE_HEADER",
    "AVEC_ANOMALIES",
    "AVENANT",
    "AVENANT_DATE",
    "BAD_LINES_PROJECT",
    "CHORUS_ENCODING",
    "COMITES",
    "CONTRACT_DATE",
    "CONTRACT_ENVELOPES",
    "CORRECTION_PROJECT",
    "CP_FILE",
    "CP_HEADER",
    "CUTOFF",
    "DAMAGED_PERIOD",
    "DAMAGED_PROJECT",
    "ENVELOPE_YEARS",
    "EXTRACTION",
    "FTAP_ACTIVITE",
    "FTAP_CF",
    "GAP_PROJECT",
    "MISSING_PROJECT",
    "NOM",
    "OTHER_ACTIVITE",
    "PERIOD",
    "REJETEE",
    "REMPLACEE",
    "RETENUE",
    "SEED",
    "SPECS",
    "SUPERSEDED_PROJECT",
    "TYPO_ID",
    "TYPO_PROJECT",
    "WITHDRAWAL_PROJECT",
    "DemoSummary",
    "write_demo",
]

"""The demo's Chorus extracts: its movements laid out as INF-BUD-53 rows, with Chorus's own noise.

Real extracts are not tidy: the programme is sometimes `349`, codes carry a `BG00/` prefix,
the centre de coûts is sometimes `#`. That noise is drawn from the simulation's generator,
after the simulation, in a fixed order; the files are written by `io.chorus_csv_writer`.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ftap_pipeline.demo import faults
from ftap_pipeline.demo.model import ChorusLine, Project
from ftap_pipeline.demo.simulation import chorus_movements
from ftap_pipeline.demo.specs import EXTRACTION, EXTRACTION_TIME
from ftap_pipeline.io.chorus_csv_writer import AE_HEADER, CP_HEADER, chorus_amount, chorus_date, write_chorus_csv

AE_FILE: Final = "INF-BUD-53_engagements_P0349_20250704.csv"
CP_FILE: Final = "INF-BUD-53_paiements_P0349_20250704.csv"
AE_TITLE: Final = "Pilotage de la gestion - vue détaillée (INF-BUD-53) - Engagements juridiques"
CP_TITLE: Final = "Pilotage de la gestion - vue détaillée (INF-BUD-53) - Paiements"
PROGRAMME: Final = "0349 - Fonds pour la transformation de l'action publique"
_CENTRE_COUTS: Final = "DITCDBU075"


def _supplier_code(name: str) -> str:
    """A stable ten-digit Chorus supplier code (no hash randomisation: a plain checksum of the name)."""
    return str(1_000_000_000 + sum((i + 1) * ord(c) for i, c in enumerate(name)) * 97 % 900_000_000)


def extract_rows(ae: Sequence[ChorusLine], cp: Sequence[ChorusLine],
                 rng: random.Random) -> tuple[list[list[str]], list[list[str]]]:
    """The AE and CP extracts' rows, sorted by date as Chorus gives them; draws its noise from `rng`."""
    last_change: dict[str, dt.date] = defaultdict(lambda: dt.date(1990, 1, 1))
    for line in ae:
        last_change[line.ej] = max(last_change[line.ej], line.date)

    def domaine() -> str:
        return rng.choice(("0349-01", "0349-01", "BG00/0349-01"))

    def activite(code: str) -> str:
        return f"BG00/{code}" if rng.random() < 0.35 else code

    ae_rows = []
    for line in sorted(ae, key=lambda c: (c.date, c.ej, c.poste, c.cents)):
        ae_rows.append(["0349", domaine(), rng.choice((_CENTRE_COUTS, _CENTRE_COUTS, "#")), activite(line.activite),
                        line.ej, chorus_date(line.date), line.poste,
                        chorus_date(min(EXTRACTION, last_change[line.ej] + dt.timedelta(days=rng.randint(0, 6)))),
                        _supplier_code(line.supplier), line.supplier.upper(), line.compte, line.groupe,
                        chorus_amount(line.cents)])
    cp_rows = []
    for n, line in enumerate(sorted(cp, key=lambda c: (c.date, c.ej, c.poste, c.cents)), start=1):
        base = max(dt.date(line.date.year, 1, 1), line.date - dt.timedelta(days=rng.randint(3, 20)))
        cp_rows.append([rng.choice(("0349", "0349", "349")), domaine(), rng.choice((_CENTRE_COUTS, "#")),
                        activite(line.activite), line.ej, line.poste, str(1_000_200_000 + n * 37),
                        chorus_date(base), str(5_000_400_000 + n * 53), chorus_date(line.date),
                        _supplier_code(line.supplier), line.supplier.upper(), line.compte, chorus_amount(line.cents)])
    return ae_rows, cp_rows


def write_chorus(folder: Path, projects: Sequence[Project], rng: random.Random) -> tuple[list[Path], dict[str, str]]:
    """Write the AE and CP extracts under `folder`; returns their paths and the injected lines' expected status."""
    ae, cp = chorus_movements(projects)
    expected = faults.inject_chorus(projects, ae, cp)
    ae_rows, cp_rows = extract_rows(ae, cp, rng)
    extracted = dt.datetime.combine(EXTRACTION, EXTRACTION_TIME)
    paths = [folder / AE_FILE, folder / CP_FILE]
    write_chorus_csv(paths[0], AE_TITLE, PROGRAMME, extracted, AE_HEADER, ae_rows)
    write_chorus_csv(paths[1], CP_TITLE, PROGRAMME, extracted, CP_HEADER, cp_rows)
    return paths, expected

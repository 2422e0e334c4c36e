"""Write a Chorus restitution CSV the way Chorus does: title lines, `;`, Windows-1252, CRLF.

The INF-BUD-53 headers (engagements and paiements) and the value formats Chorus uses (dates
`jj.mm.aaaa`, amounts with a decimal comma) live here, beside the writer, so the demo's
extracts look like the real ones `io.chorus_reader` has to read.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from ftap_pipeline.io.atomic import write_bytes

AE_HEADER: Final = ("Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
                    "Date de réplication", "N° poste EJ", "Date de dernière modif. de l'EJ",
                    "Fournisseur titulaire principal (EJ)", "", "Compte budgétaire", "Groupe de marchandises", "EUR")
CP_HEADER: Final = ("Programme", "Domaine fonctionnel", "Centre de coûts", "Référentiel de programmation", "N° EJ",
                    "N° poste EJ", "N° DP", "Date de base de la DP", "N° SF", "Date comptable du SF",
                    "Fournisseur payé (DP)", "", "Compte budgétaire", "EUR")
CHORUS_ENCODING: Final = "cp1252"


def chorus_date(day: dt.date) -> str:
    """A date as Chorus writes it: `04.07.2025`."""
    return day.strftime("%d.%m.%Y")


def chorus_amount(cents: int) -> str:
    """An amount in cents as Chorus writes it in euros: `-1234,50`."""
    return f"{cents / 100:.2f}".replace(".", ",")


def chorus_csv(title: str, programme: str, extracted: dt.datetime, header: Sequence[str],
               rows: Sequence[Sequence[str]]) -> bytes:
    """The bytes of a restitution: its title, programme and extraction lines, a blank line, the header, the rows."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([title])
    writer.writerow([f"Programme : {programme}"])
    writer.writerow([f"Date d'extraction : {chorus_date(extracted)} {extracted:%H:%M:%S}"])
    writer.writerow([])
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode(CHORUS_ENCODING)


def write_chorus_csv(path: Path, title: str, programme: str, extracted: dt.datetime, header: Sequence[str],
                     rows: Sequence[Sequence[str]]) -> None:
    """Write a restitution to `path` (atomically; its folder is created if need be)."""
    write_bytes(path, chorus_csv(title, programme, extracted, header, rows))

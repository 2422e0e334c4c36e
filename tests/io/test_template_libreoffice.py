"""The template checks as one types, in LibreOffice: its validations refuse bad values, its marks colour them.

Excel is not available here; LibreOffice reads the same file and the same formulas (English function names,
commas). Two ways in, on the same cases:

- the template filled with openpyxl (as a paste would, past the validations), converted headless to HTML:
  LibreOffice's HTML export paints each cell with the fill its conditional formats give it, so the light red
  and light orange marks are read as colours;
- when the system Python has LibreOffice's `uno` bridge (Debian: python3-uno), the values are set through
  LibreOffice's own API, then « Marquer les données non valides » (`XSheetAuditing.showInvalid`) runs every
  cell's validation and circles the refused ones: the circled cells must be exactly the bad ones.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, cast

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from ftap_pipeline.contract import layout
from ftap_pipeline.io.return_writer import BAD_FILL, MISSING_FILL, write_template
from tests.conftest import soffice

pytestmark = [pytest.mark.libreoffice,
              pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed")]

#: The Python that has LibreOffice's `uno` module (the system's, not the venv's); FTAP_UNO_PYTHON overrides it.
UNO_PYTHON = os.environ.get("FTAP_UNO_PYTHON", "/usr/bin/python3")
TIMEOUT = 240

#: ERROR: an error value (#DIV/0!…) in a free-text column, which no validation refuses but the marks paint red.
OK, BAD, MISSING, ERROR = "ok", "bad", "missing", "error"
D = dt.date

#: (sheet, cell, value, expected mark). A value of None leaves the cell blank; cells not listed stay blank; a
#: text starting with "=" is a formula.
CASES: tuple[tuple[str, str, object, str], ...] = (
    # Financement: A Année, B Catégorie, C Titre, D Objet, E Financeur, F AE, G CP.
    *(("Financement", f"{c}2", v, OK) for c, v in zip("ABCDEFG", (2024, "Cadrage", 3, "Prestations intellectuelles",
                                                                  "FTAP", 1200000.5, 0), strict=True)),
    ("Financement", "A3", 2019, BAD), ("Financement", "B3", "Expérimentation", OK), ("Financement", "C3", 5, OK),
    ("Financement", "D3", "Autres dépenses", OK), ("Financement", "E3", "Porteur", OK),
    ("Financement", "F3", 12.345, BAD), ("Financement", "G3", -3, BAD),
    ("Financement", "A4", 2030, OK), ("Financement", "B4", "Inconnue", BAD), ("Financement", "C4", 4, BAD),
    ("Financement", "D4", "Autres dépenses", OK), ("Financement", "E4", "FTAP", OK),
    ("Financement", "F4", "beaucoup", BAD), ("Financement", "G4", "=1/0", BAD), ("Financement", "F6", 0.1, OK),
    ("Financement", "A5", 2024, OK),  # a started line: every other required cell is missing
    *(("Financement", f"{c}5", None, MISSING) for c in "BCDEFG"),
    *(("Financement", f"{c}6", None, MISSING) for c in "ABCDEG"),
    # Consommation: A N° EJ … L AE engagées, M CP payés, N Commentaire; I-K (imputation) may stay blank.
    *(("Consommation", f"{c}2", v, OK) for c, v in zip(
        "ABCDEFGHLM", ("0012345678", 2024, D(2024, 3, 1), "Kaizen Public Conseil", "Cadrage", 3,
                       "Prestations intellectuelles", "Porteur", -5000.25, 100.1), strict=True)),
    ("Consommation", "A3", "123456789", BAD), ("Consommation", "B3", 2031, BAD),
    ("Consommation", "C3", "31/02/2025", BAD), ("Consommation", "D3", "Kaizen", OK),
    ("Consommation", "E3", "Cadrage", OK), ("Consommation", "F3", 3, OK),
    ("Consommation", "G3", "Prestations intellectuelles", OK), ("Consommation", "H3", "FTAP", OK),
    ("Consommation", "I3", "0349-CDBU-DITP", OK), ("Consommation", "J3", "0349-01", OK),
    ("Consommation", "K3", "03490101B501", OK), ("Consommation", "L3", 12.345, BAD),
    ("Consommation", "M3", -3, OK), ("Consommation", "N3", "Retrait", OK),
    ("Consommation", "A4", "2100 123 456", OK), ("Consommation", "B4", 2025, OK),
    ("Consommation", "C4", D(1989, 12, 31), BAD), ("Consommation", "D4", None, MISSING),
    ("Consommation", "E4", "Généralisation", OK), ("Consommation", "F4", 6, OK),
    ("Consommation", "G4", "Autres dépenses", OK), ("Consommation", "H4", "Co-porteur", OK),
    ("Consommation", "L4", 0, OK), ("Consommation", "M4", None, MISSING), ("Consommation", "N4", "=NA()", ERROR),
    # Économies: A Année (2000 to 2100), B Nature, C Statut, D Montant, E ETP, F Pérenne, G Explication.
    *(("Économies", f"{c}2", v, m) for c, v, m in zip(
        "ABCDEF", (2035, "Immobilier", "Réalisée", -3, 1.5, "Oui"), (OK, OK, OK, BAD, OK, OK), strict=True)),
    *(("Économies", f"{c}3", v, m) for c, v, m in zip(
        "ABCDEFG", (1999, "Masse salariale", "Prévisionnelle", 10.5, -1, "Peut-être", "Écart de calendrier"),
        (BAD, OK, OK, OK, BAD, BAD, OK), strict=True)),
    # Indicateurs: a line with its name only (every required cell missing, not the Cible), and a full one.
    ("Indicateurs", "A2", "Délai moyen de traitement", OK),
    *(("Indicateurs", f"{c}2", None, MISSING) for c in "BCDEFGHJ"),
    *(("Indicateurs", f"{c}3", v, m) for c, v, m in zip(
        "ABCDEFGHJ", ("Délai", "Qualité de service usager", "jours", "Baisse", "trente", D(2024, 1, 10), 25.5,
                      D(2025, 6, 20), "Statistique directe"), (OK, OK, OK, OK, BAD, OK, OK, OK, OK), strict=True)),
    # Projet: the form, one field a row in column B; every required field is due.
    *(("Projet", f"B{row}", v, m) for row, (v, m) in enumerate((
        ("AP-2024-123", OK), ("Robotisation des demandes de titres", OK), ("2025-T5", BAD), (D(2025, 6, 30), OK),
        (None, MISSING), ("Ministère de l'Intérieur", OK), ("Autre chose", BAD), ("Oui", OK), ("peut-être", BAD),
        ("Occitanie", OK), ("Cadrage", OK), (D(1985, 1, 15), BAD), (D(2024, 2, 1), OK), (None, MISSING),
        ("Non", OK), ("Anne Martin", OK), ("pas-une-adresse", BAD), (0, BAD)), start=2)),
)

#: The cells compared on each sheet: the first lines of each table, every value of the form.
AREA: dict[str, list[str]] = {
    **{s.name: [f"{get_column_letter(c)}{r}" for r in range(2, 7) for c in range(1, len(s.fields) + 1)]
       for s in layout.TABLE_SHEETS},
    layout.PROJET.name: [f"B{r}" for r in range(2, len(layout.PROJET.fields) + 2)],
}


def _expected(*marks: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {sheet: set() for sheet in AREA}
    for sheet, cell, _, mark in CASES:
        if mark in marks:
            out[sheet].add(cell)
    return out


def test_cases_cover_every_typed_column_and_the_area() -> None:
    """The cases put a bad value in a column of each kind, and stay in the compared area."""
    assert all(cell in AREA[sheet] for sheet, cell, _, _ in CASES)
    bad = {(sheet, re.sub(r"\d", "", cell)) for sheet, cell, _, mark in CASES if mark == BAD}
    assert {("Financement", c) for c in "ABCF"} <= bad  # year, list, titre, amount
    assert {("Consommation", c) for c in "ABCL"} <= bad  # EJ, year, date, signed amount
    assert {("Économies", c) for c in "ADEF"} <= bad  # year, amount, ETP, yes/no
    assert ("Indicateurs", "E") in bad  # number


def _convert(source: Path, fmt: str, outdir: Path) -> Path:
    """Convert with headless LibreOffice, with a profile of its own (tests run in parallel)."""
    subprocess.run([str(soffice()), f"-env:UserInstallation=file://{outdir / 'lo-profile'}", "--headless",
                    "--convert-to", fmt, "--outdir", str(outdir), str(source)],
                   check=True, capture_output=True, timeout=TIMEOUT)
    return outdir / f"{source.stem}.{fmt}"


class _Fills(HTMLParser):
    """The fill of every cell of LibreOffice's HTML export, by sheet and A1 name (None: no fill)."""

    def __init__(self) -> None:
        super().__init__()
        self.fills: dict[str, dict[str, str | None]] = {}
        self._sheet = ""
        self._in_title = False
        self._row = 0
        self._col = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h1":
            self._in_title, self._sheet = True, ""
        elif tag == "table":
            self._row = 0
            self.fills.setdefault(self._sheet, {})
        elif tag == "tr":
            self._row, self._col = self._row + 1, 0
        elif tag == "td":
            colour = a.get("bgcolor")
            self.fills[self._sheet][f"{get_column_letter(self._col + 1)}{self._row}"] = \
                colour.upper() if colour else None
            self._col += int(a.get("colspan") or 1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "h1":
            self._in_title = False
            self._sheet = self._sheet.split(":", 1)[-1].strip()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self._sheet += data


def _marks(html: Path) -> dict[str, dict[str, set[str]]]:
    """The cells of the compared area that are painted light red (bad) or light orange (missing)."""
    parser = _Fills()
    parser.feed(html.read_text(encoding="utf-8"))
    out: dict[str, dict[str, set[str]]] = {BAD: {}, MISSING: {}}
    for sheet, cells in AREA.items():
        fills = parser.fills[sheet]
        out[BAD][sheet] = {c for c in cells if fills.get(c) == BAD_FILL}
        out[MISSING][sheet] = {c for c in cells if fills.get(c) == MISSING_FILL}
    return out


def test_libreoffice_marks_bad_and_missing_cells_of_a_filled_template(tmp_path: Path) -> None:
    """Values written past the validations (openpyxl, as a paste would) are painted by the conditional formats."""
    template = tmp_path / "modele.xlsx"
    write_template(template)
    wb = openpyxl.load_workbook(template)
    for sheet, cell, value, _ in CASES:
        if value is not None:
            wb[sheet][cell] = cast(Any, value)
            if isinstance(value, D):
                wb[sheet][cell].number_format = layout.DATE_FORMAT
    filled = tmp_path / "rempli.xlsx"
    wb.save(filled)
    marks = _marks(_convert(filled, "html", tmp_path / "out"))
    assert marks[BAD] == _expected(BAD, ERROR)
    assert marks[MISSING] == _expected(MISSING)


def test_the_blank_template_marks_only_the_projet_fields_due(tmp_path: Path) -> None:
    """No line has started: the tables are clean; on the form, every required field is orange until filled."""
    template = tmp_path / "modele.xlsx"
    write_template(template)
    marks = _marks(_convert(template, "html", tmp_path / "out"))
    assert all(not cells for cells in marks[BAD].values())
    assert {s: c for s, c in marks[MISSING].items() if c} == {
        "Projet": {f"B{row}" for row, f in enumerate(layout.PROJET.fields, start=2) if f.required}}


def test_the_template_prints_a4_one_page_wide(tmp_path: Path) -> None:
    """Instructions and Projet in portrait, each table in landscape on one page; the Instructions' columns print
    side by side (21 pages, two wide, before the print set-up)."""
    template = tmp_path / "modele.xlsx"
    write_template(template)
    pdf = _convert(template, "pdf", tmp_path / "out")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "100", str(pdf)], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    sizes = [tuple(round(float(x)) for x in m) for m in re.findall(r"size:\s+([\d.]+) x ([\d.]+) pts", info)]
    portrait, landscape = (595, 842), (842, 595)
    assert set(sizes) <= {portrait, landscape}, "A4 only"
    assert sizes[-len(layout.TABLE_SHEETS):] == [landscape] * len(layout.TABLE_SHEETS)
    assert sizes[:-len(layout.TABLE_SHEETS)] == [portrait] * (len(sizes) - len(layout.TABLE_SHEETS))
    assert 2 <= len(sizes) - len(layout.TABLE_SHEETS) <= 5, "Instructions on a few pages, Projet on one"
    if shutil.which("pdftotext"):
        pages = [subprocess.run(["pdftotext", "-f", str(i), "-l", str(i), str(pdf), "-"], check=True,
                                capture_output=True, text=True, timeout=60).stdout for i in range(1, len(sizes) + 1)]
        # A label (column A) and its rule (column C) on the same page: nothing spills to a page on the right.
        assert any("Feuille Consommation" in p and "Numéro d'engagement juridique Chorus" in p for p in pages)
        assert any("Rouge clair" in p and "Orange clair" in p for p in pages)


# --- through LibreOffice's API -----------------------------------------------------------------------

#: Run by the system Python: start LibreOffice on a pipe, load the template, set the values through the API,
#: save the result as HTML (the marks), then circle the invalid cells and print them (the validations).
UNO_SCRIPT = r'''
import json, subprocess, sys, time, uuid
import uno
from com.sun.star.beans import PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


job = json.load(sys.stdin)
pipe = "ftap" + uuid.uuid4().hex
office = subprocess.Popen([job["soffice"], "-env:UserInstallation=" + job["profile"], "--headless", "--invisible",
                           "--norestore", "--nologo", "--nodefault", "--accept=pipe,name=%s;urp;" % pipe],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
desktop = None
try:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + 90
    while True:
        try:
            ctx = resolver.resolve("uno:pipe,name=%s;urp;StarOffice.ComponentContext" % pipe)
            break
        except Exception:
            if time.monotonic() > deadline or office.poll() is not None:
                raise
            time.sleep(0.2)
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(job["source"]), "_blank", 0, (prop("Hidden", True),))
    for sheet, cell, kind, value in job["cases"]:
        target = doc.Sheets.getByName(sheet).getCellRangeByName(cell)
        if kind == "number":
            target.setValue(value)
        elif kind == "formula":
            target.setFormula(value)
        else:
            target.setString(value)
    doc.calculateAll()
    doc.storeToURL(uno.systemPathToFileUrl(job["html"]), (prop("FilterName", "HTML (StarCalc)"),))
    invalid = {}
    for sheet, cells in job["area"].items():
        ws = doc.Sheets.getByName(sheet)
        ws.showInvalid()
        page = ws.DrawPage
        shapes = [page.getByIndex(i) for i in range(page.Count)]
        centres = [(s.Position.X + s.Size.Width / 2, s.Position.Y + s.Size.Height / 2) for s in shapes
                   if s.ShapeType == "com.sun.star.drawing.EllipseShape"]
        circled = []
        for name in cells:
            c = ws.getCellRangeByName(name)
            x, y, w, h = c.Position.X, c.Position.Y, c.Size.Width, c.Size.Height
            if any(x <= cx < x + w and y <= cy < y + h for cx, cy in centres):
                circled.append(name)
        invalid[sheet] = {"circled": circled, "circles": len(centres)}
    doc.close(True)
    print(json.dumps(invalid))
finally:
    if desktop is not None:
        try:
            desktop.terminate()
        except Exception:
            pass
    try:
        office.wait(timeout=30)
    except subprocess.TimeoutExpired:
        office.kill()
'''


def _has_uno() -> bool:
    if shutil.which(UNO_PYTHON) is None:
        return False
    return subprocess.run([UNO_PYTHON, "-c", "import uno"], capture_output=True, timeout=60).returncode == 0


def _api_value(value: object) -> tuple[str, object]:
    """How the API sets a value: a number (a date as its serial, as LibreOffice stores it), a formula or a text."""
    if isinstance(value, D):
        return "number", (value - D(1899, 12, 30)).days
    if isinstance(value, (int, float)):
        return "number", value
    return ("formula" if str(value).startswith("=") else "text"), str(value)


def test_values_set_through_libreoffice_api_are_refused_and_marked(tmp_path: Path) -> None:
    if not _has_uno():
        pytest.skip(f"LibreOffice's Python bridge (uno) is not importable by {UNO_PYTHON} (apt: python3-uno)")
    template = tmp_path / "modele.xlsx"
    write_template(template)
    html = tmp_path / "api.html"
    job = {"soffice": soffice(), "profile": (tmp_path / "lo-profile").as_uri(), "source": str(template),
           "html": str(html), "area": AREA,
           "cases": [[sheet, cell, *_api_value(value)] for sheet, cell, value, _ in CASES if value is not None]}
    run = subprocess.run([UNO_PYTHON, "-c", UNO_SCRIPT], input=json.dumps(job), capture_output=True, text=True,
                         timeout=TIMEOUT, check=False)
    assert run.returncode == 0, run.stderr
    invalid = json.loads(run.stdout.strip().splitlines()[-1])
    expected = _expected(BAD)
    for sheet, cells in expected.items():
        assert set(invalid[sheet]["circled"]) == cells, sheet
        assert invalid[sheet]["circles"] == len(cells), f"{sheet}: a circle outside the compared cells"
    marks = _marks(html)
    assert marks[BAD] == _expected(BAD, ERROR)
    assert marks[MISSING] == _expected(MISSING)

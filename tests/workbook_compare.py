"""Sheet-by-sheet comparison of workbooks, for golden-file tests: cells, tables, charts, print set-up, panes,
data validations and conditional formats."""

from __future__ import annotations

import datetime as dt
import posixpath
import shutil
import zipfile
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import openpyxl
from defusedxml import ElementTree
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.worksheet import Worksheet

#: Rows of « À propos » that record the run's environment (`Version de pandas`…), not its result: their value
#: follows whatever is installed, so a golden file compares only that the row is there.
_ENVIRONMENT_ROW = "Version de "

_NS = {"c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
       "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
       "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
       "main": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
       "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"

#: What `snapshot` records of each sheet besides its cells, in the order `differences` reports them.
ASPECTS = ("tables", "charts", "print", "freeze", "validations", "conditional")


def snapshot(path: Path) -> dict[str, dict[str, Any]]:
    """Per sheet: every non-empty cell (value and number format), every Excel table (name → range), and what
    openpyxl reads of its print set-up, frozen panes, data validations and conditional formats; charts, which
    openpyxl does not load, are read from the file's XML."""
    wb = openpyxl.load_workbook(path)
    charts = charts_by_sheet(path)
    out: dict[str, dict[str, Any]] = {}
    for ws in wb.worksheets:
        cells = {}
        for row in ws.iter_rows():
            environment = isinstance(row[0].value, str) and row[0].value.startswith(_ENVIRONMENT_ROW)
            for c in row:
                if c.value is not None:
                    value = c.value.replace(microsecond=0) if isinstance(c.value, dt.datetime) else c.value
                    if environment and c.column > 1:
                        value = "<installed version>"
                    cells[c.coordinate] = (value, c.number_format)
        out[ws.title] = {
            "cells": cells,
            # types-openpyxl leaves TableList.items() unannotated; it returns [(name, ref), ...].
            "tables": dict(ws.tables.items()),  # type: ignore[no-untyped-call]
            "charts": charts.get(ws.title, []),
            "print": print_setup(ws),
            "freeze": ws.freeze_panes,
            "validations": sorted((str(dv.sqref), dv.type, dv.operator, dv.formula1, dv.formula2)
                                  for dv in ws.data_validations.dataValidation),
            "conditional": conditional_formats(ws),
        }
    return out


def print_setup(ws: Worksheet) -> dict[str, Any]:
    """The page set-up; a fit left out of the file is Excel's default, one page."""
    setup = ws.page_setup
    fit = ws.sheet_properties.pageSetUpPr
    return {"orientation": setup.orientation, "paper": setup.paperSize,
            "fit to page": bool(fit is not None and fit.fitToPage),
            "pages wide": 1 if setup.fitToWidth is None else int(setup.fitToWidth),
            "pages tall": 1 if setup.fitToHeight is None else int(setup.fitToHeight),
            "title rows": ws.print_title_rows, "title columns": ws.print_title_cols,
            "header": _parts(ws.oddHeader), "footer": _parts(ws.oddFooter)}


def _parts(item: HeaderFooterItem | None) -> tuple[str | None, ...]:
    """The left, centre and right texts, header codes (`&P`, `&&`…) as written."""
    if item is None:
        return (None, None, None)
    return (item.left.text, item.center.text, item.right.text)


def conditional_formats(ws: Worksheet) -> list[tuple[Any, ...]]:
    """(range, rule type, operator, formulae, fill colour, font colour) of each rule."""
    rules = []
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            dxf = rule.dxf
            fill = dxf.fill.bgColor.rgb if dxf is not None and dxf.fill is not None and dxf.fill.bgColor else None
            font = dxf.font.color.rgb if dxf is not None and dxf.font is not None and dxf.font.color else None
            rules.append((str(cf.sqref), rule.type, rule.operator, tuple(rule.formula or ()), fill, font))
    return sorted(rules, key=repr)


def _xml(zf: zipfile.ZipFile, name: str) -> Element:
    root: Element = ElementTree.fromstring(zf.read(name))
    return root


def _targets(zf: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationships: id → the target's name in the archive."""
    folder, name = posixpath.split(part)
    rels = posixpath.join(folder, "_rels", f"{name}.rels")
    if rels not in zf.namelist():
        return {}
    out = {}
    for rel in _xml(zf, rels).findall("rel:Relationship", _NS):
        target = rel.get("Target", "")
        out[rel.get("Id", "")] = target.lstrip("/") if target.startswith("/") else \
            posixpath.normpath(posixpath.join(folder, target))
    return out


def charts_by_sheet(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Each sheet's charts, in drawing order: anchor cell, title, plot types and series ranges."""
    out: dict[str, list[dict[str, Any]]] = {}
    with zipfile.ZipFile(path) as zf:
        book = _targets(zf, "xl/workbook.xml")
        for sheet in _xml(zf, "xl/workbook.xml").iterfind("main:sheets/main:sheet", _NS):
            part = book[sheet.get(_R_ID, "")]
            for drawing in (t for t in _targets(zf, part).values() if "/drawings/" in t):
                charts = _targets(zf, drawing)
                for anchor in _xml(zf, drawing):
                    ref = anchor.find(".//c:chart", _NS)
                    start = anchor.find("xdr:from", _NS)
                    if ref is None or start is None:
                        continue
                    column, row = (int(start.findtext(f"xdr:{n}", "0", _NS)) for n in ("col", "row"))
                    cell = f"{get_column_letter(column + 1)}{row + 1}"
                    chart = _chart(_xml(zf, charts[ref.get(_R_ID, "")]))
                    out.setdefault(str(sheet.get("name")), []).append({"anchor": cell, **chart})
    return out


def _chart(root: Element) -> dict[str, Any]:
    title = root.find("c:chart/c:title", _NS)
    title_text = None if title is None else \
        "".join(t.text or "" for t in title.iterfind(".//a:t", _NS)) or title.findtext(".//c:f", None, _NS)
    plots, series = [], []
    area = root.find("c:chart/c:plotArea", _NS)
    for plot in [] if area is None else list(area):
        kind = plot.tag.rsplit("}", 1)[-1]
        if not kind.endswith("Chart"):
            continue
        direction = plot.find("c:barDir", _NS)
        kind = kind if direction is None else f"{kind} {direction.get('val')}"
        plots.append(kind)
        for ser in plot.iterfind("c:ser", _NS):
            series.append((kind, ser.findtext("c:tx//c:f", None, _NS), ser.findtext("c:cat//c:f", None, _NS),
                           ser.findtext("c:val//c:f", None, _NS)))
    return {"title": title_text, "plots": plots, "series": series}


def differences(actual: Path, golden: Path, limit: int = 30) -> list[str]:
    """One readable line per difference, sheet by sheet: first what is not a cell, then cell by cell."""
    a, g = snapshot(actual), snapshot(golden)
    diffs: list[str] = []
    if list(a) != list(g):
        diffs.append(f"sheets: {list(a)} != golden {list(g)}")
    for sheet in g:
        if sheet not in a:
            continue
        for aspect in ASPECTS:
            diffs += _aspect_differences(f"{sheet} {aspect}", a[sheet][aspect], g[sheet][aspect])
        ca, cg = a[sheet]["cells"], g[sheet]["cells"]
        for ref in sorted(set(ca) | set(cg), key=lambda r: (len(r), r)):
            if ca.get(ref) != cg.get(ref):
                diffs.append(f"{sheet}!{ref}: {ca.get(ref)!r} != golden {cg.get(ref)!r}")
    return diffs[:limit]


def _aspect_differences(where: str, actual: Any, golden: Any) -> list[str]:
    if actual == golden:
        return []
    if isinstance(actual, dict) and isinstance(golden, dict):
        return [f"{where} {key}: {actual.get(key)!r} != golden {golden.get(key)!r}"
                for key in sorted(set(actual) | set(golden), key=str) if actual.get(key) != golden.get(key)]
    if isinstance(actual, list) and isinstance(golden, list):
        out = [line for i, (x, y) in enumerate(zip(actual, golden, strict=False))
               for line in _aspect_differences(f"{where}[{i}]", x, y)]
        out += [f"{where}[{i}]: {x!r} not in golden" for i, x in enumerate(actual[len(golden):], len(golden))]
        out += [f"{where}[{i}]: missing, golden has {y!r}" for i, y in enumerate(golden[len(actual):], len(actual))]
        return out
    return [f"{where}: {actual!r} != golden {golden!r}"]


def check_golden(actual: Path, golden: Path, regen: bool) -> None:
    if regen:
        golden.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(actual, golden)
        return
    assert golden.exists(), f"no golden file {golden.name}: run pytest --regen-golden once and commit it"
    diffs = differences(actual, golden)
    assert not diffs, "workbook differs from its golden file (pytest --regen-golden to accept):\n" + "\n".join(diffs)

"""Checks on the `Projet` form: the fields that decide whether a return can be used at all, then the rest."""

from __future__ import annotations

from collections.abc import Set

from ftap_pipeline.contract import layout
from ftap_pipeline.contract.findings import Finding
from ftap_pipeline.contract.model import ParsedReturn
from ftap_pipeline.core import parsing
from ftap_pipeline.core.period import Period

_BLOCKING = {"project_id": "invalid-project-id", "period": "invalid-period", "date_situation": "invalid-situation-date"}


def _where(p: ParsedReturn, key: str) -> dict[str, object]:
    name = p.sheet_names.get("projet", layout.PROJET.name)
    return {"sheet": name, "cell": p.projet_cells.get(key, f"{name}!A1"), "field": layout.PROJET.field(key).label}


def check_projet(p: ParsedReturn, *, known_projects: Set[str] | None) -> list[Finding]:
    """The `Projet` findings of one return. `known_projects` None means: no référentiel to check against."""
    if "projet" not in p.sheet_names:
        return []  # already rejected for the missing sheet
    out: list[Finding] = []
    for f in layout.PROJET.fields:
        error = p.projet_errors.get(f.key)
        value = p.projet.value(f.key)
        where = _where(p, f.key)
        if f.key in _BLOCKING:
            if error or value is None:
                reason = error[1] if error else f"« {f.label} » n'est pas renseigné."
                out.append(p.finding(_BLOCKING[f.key], {"motif": reason}, value=error[2] if error else "", **where))
            continue
        if error:
            out.append(p.finding("invalid-project-field", {"motif": error[1]}, value=error[2], **where))
        elif value is None and f.required:
            out.append(p.finding("invalid-project-field", {"motif": f"« {f.label} » n'est pas renseigné."}, **where))
        elif f.choices and value is not None and value not in f.choices:
            out.append(p.finding("invalid-project-field",
                                 {"motif": f"« {value} » n'est pas une valeur permise pour « {f.label} »."},
                                 value=str(value), **where))
        elif f.kind is layout.Kind.YESNO and value not in (None, "Oui", "Non"):
            out.append(p.finding("invalid-project-field", {"motif": f"« {value} » : répondez Oui ou Non."},
                                 value=str(value), **where))
    version = p.projet.version
    if version is not None and version < 1:
        out.append(p.finding("invalid-project-field",
                             {"motif": "La version doit être un entier supérieur ou égal à 1 ; la version 1 est retenue."},
                             value=str(version), **_where(p, "version")))
    return out + _check_identity(p, known_projects)


def _check_identity(p: ParsedReturn, known_projects: Set[str] | None) -> list[Finding]:
    out: list[Finding] = []
    project_id = p.projet.project_id
    if project_id and known_projects is not None and project_id not in known_projects:
        out.append(p.finding("unknown-project", {"projet": project_id}, value=str(project_id),
                             **_where(p, "project_id")))
    elif project_id and known_projects is None:
        out.append(p.finding("not-checked-offline",
                             {"controle": "l'identifiant du projet n'est pas recherché dans la liste des projets "
                                          "sélectionnés"},
                             value=str(project_id), **_where(p, "project_id")))
    period_text = p.projet.period
    situation = p.projet.date_situation
    if period_text and situation is not None:
        period = Period.parse(str(period_text))
        shown = parsing.display(situation)
        if not period.contains(situation):
            out.append(p.finding("situation-outside-period",
                                 {"date": f"{situation:%d/%m/%Y}", "periode": period,
                                  "debut": f"{period.first_day:%d/%m/%Y}", "fin": f"{period.last_day:%d/%m/%Y}"},
                                 value=shown, **_where(p, "date_situation")))
    return out

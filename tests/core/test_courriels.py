"""The plan of what a run sends: who each message is for, what it carries, in which order, and what cannot go."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from ftap_pipeline.contract import enums, inbox
from ftap_pipeline.contract.addresses import is_mail_address
from ftap_pipeline.contract.model import ChorusRestitution, Projet, ReturnInput, ReturnRecord
from ftap_pipeline.contract.referentiel import Referentiel
from ftap_pipeline.core.assemble import Report, assemble
from ftap_pipeline.core.assess import assess_returns
from ftap_pipeline.core.courriels import SECRETARIAT_ABOUT, UNKNOWN_PROJECTS, Courrier, CourrierKind, plan_courriers
from ftap_pipeline.core.feedback import feedback_workbooks, newest_return
from ftap_pipeline.core.figures import Figures, ReportScope, compute_figures
from ftap_pipeline.core.period import Period
from ftap_pipeline.demo import specs
from ftap_pipeline.io import intake
from ftap_pipeline.io.chorus_reader import read_chorus_files
from ftap_pipeline.io.referentiel_reader import read_referentiel
from tests import builders as b
from tests.conftest import INPUTS

SCOPE = ReportScope.quarterly(Period.parse("2025-T2"))


@dataclasses.dataclass(frozen=True)
class DemoInputs:
    referentiel: Referentiel
    items: tuple[ReturnInput, ...]
    chorus: tuple[ChorusRestitution, ...]


@pytest.fixture(scope="module")
def demo_inputs() -> DemoInputs:
    referentiel = read_referentiel(INPUTS / inbox.REFERENCE_FILE)
    items = intake.read_returns(intake.discover(INPUTS / inbox.RETURNS_DIR), 2)
    chorus = read_chorus_files(intake.discover(INPUTS / inbox.CHORUS_DIR), workers=2)
    return DemoInputs(referentiel, tuple(items), tuple(chorus))


@pytest.fixture(scope="module")
def demo_report(demo_inputs: DemoInputs) -> Report:
    """The demo inputs assembled for 2025-T2, in memory (nothing written, nothing sent)."""
    d = demo_inputs
    return assemble(assess_returns(list(d.items), d.referentiel, SCOPE.cutoff), d.referentiel, d.chorus, SCOPE, {})


def _spec(project_id: str) -> specs.ProjectSpec:
    return next(s for s in specs.SPECS if s.pid == project_id)


def test_the_demo_plan_in_order(demo_report: Report) -> None:
    courriers = demo_report.courriers
    kinds = [c.kind for c in courriers]
    assert kinds[0] is CourrierKind.SECRETARIAT
    assert kinds.count(CourrierKind.SECRETARIAT) == 1
    retours = [c for c in courriers if c.kind is CourrierKind.RETOUR]
    rappels = [c for c in courriers if c.kind is CourrierKind.RAPPEL]
    assert kinds == [CourrierKind.SECRETARIAT] + [CourrierKind.RETOUR] * len(retours) + [CourrierKind.RAPPEL] * len(rappels)
    # One feedback mail per feedback workbook, each carrying its own workbook, in the workbooks' order.
    assert [(c.about, c.attachment) for c in retours] == [(f.porteur, f.path) for f in demo_report.feedback]
    assert [c.to for c in retours] == [f.recipient for f in demo_report.feedback]


def test_the_secretariat_gets_the_workbook_and_a_summary(demo_report: Report) -> None:
    mail = demo_report.courriers[0]
    assert (mail.to, mail.about, mail.attachment, mail.problem) == (None, SECRETARIAT_ABOUT, "FTAP_suivi_2025-T2.xlsx",
                                                                    None)
    assert mail.subject == "FTAP — classeur consolidé, trimestre 2025-T2"
    facts = {label: value for label, value, _ in demo_report.facts}
    body = mail.body
    assert "date d'arrêté 30/06/2025" in body
    for status in enums.RETURN_STATUSES:
        assert f"  - Remontées « {status} » : {facts[f'Remontées « {status} »']}\n" in body
    title = _spec(specs.MISSING_PROJECT).intitule
    assert f"  - Projets concernés : {specs.MISSING_PROJECT} ({title})\n" in body
    assert f"  - Lignes en alerte (Suivi AE-CP) : {facts['Lignes en alerte (Suivi AE-CP)']}\n" in body
    # The Chorus gaps, by status, as the Synthèse's table has them.
    assert "Rapprochement avec Chorus, par statut :\n  - Absent de Chorus : 1 ligne (écart AE " in body
    assert "  - Concordant : " in body
    # And what the other messages of the run are, so that the secretariat knows who was not reached.
    assert f"  - {specs.MISSING_PROJECT} ({title}) (relance) : {_spec(specs.MISSING_PROJECT).courriel}\n" in body
    assert "  - Porteur inconnu (retour d'anomalies) : non envoyé, remontées d'un projet absent du référentiel" in body


def test_the_missing_project_gets_a_reminder_to_its_newest_earlier_address(demo_report: Report) -> None:
    rappels = [c for c in demo_report.courriers if c.kind is CourrierKind.RAPPEL]
    spec = _spec(specs.MISSING_PROJECT)
    assert [(c.about, c.to, c.attachment, c.problem) for c in rappels] == [
        (f"{spec.pid} ({spec.intitule})", spec.courriel, None, None)]
    mail = rappels[0]
    assert mail.subject == f"FTAP — remontée 2025-T2 attendue pour le projet {spec.pid}"
    assert "au titre du trimestre 2025-T2" in mail.body
    assert "dès que possible" in mail.body
    assert "« ftap template »" in mail.body
    assert "« ftap check votre_fichier.xlsx »" in mail.body
    assert "normalement le 30/06/2025" in mail.body


def test_the_returns_of_unknown_projects_are_answered_to_nobody(demo_report: Report) -> None:
    """They are the secretariat's: an address typed in a return of a project the référentiel does not know (one
    of them does give one) is never written to, since nothing says who sent it."""
    unknown = [c for c in demo_report.courriers if c.about == "Porteur inconnu"]
    assert [(c.to, c.attachment, c.problem) for c in unknown] == [
        (None, "anomalies/Porteur_inconnu_2025-T2.xlsx", UNKNOWN_PROJECTS)]


def test_a_feedback_mail_says_what_to_do(demo_report: Report) -> None:
    feedback = demo_report.feedback[0]
    mail = next(c for c in demo_report.courriers if c.attachment == feedback.path)
    assert mail.subject == "FTAP — retour sur vos remontées de la période 2025-T2"
    assert mail.body.startswith("Bonjour,\n\n" + str(feedback.workbook.sheets[0].intro) + "\n\n")
    assert mail.body.endswith("Cordialement,\nLe secrétariat du FTAP (DITP)\n")


def test_the_plan_is_deterministic(demo_inputs: DemoInputs, demo_report: Report) -> None:
    """The same inputs read in another order give the same messages."""
    d = demo_inputs
    figures = compute_figures(assess_returns(list(reversed(d.items)), d.referentiel, SCOPE.cutoff), d.referentiel,
                              d.chorus, SCOPE)
    assert plan_courriers(figures, feedback_workbooks(figures), demo_report.workbook_path) == demo_report.courriers


# --- built returns: the newest-return rules -------------------------------------------------------------


def _referentiel() -> Referentiel:
    ref = b.referentiel()
    projets = pd.DataFrame([
        {"project_id": pid, "intitule": title, "porteur": porteur, "ministere": "Intérieur",
         "date_selection": dt.date(2024, 1, 10), "cycle": "2024-1"}
        for pid, title, porteur in (("AP-2024-01", "Robotisation", "Préfecture de l'Hérault"),
                                    ("AP-2024-02", "Dématérialisation", "DDFiP de la Gironde"),
                                    ("AP-2024-03", "Télé-procédures", "Rectorat de Lille"),
                                    ("AP-2024-04", "Archivage", "Préfecture du Gard"))])
    return dataclasses.replace(ref, projets=projets)


def _bad_line() -> dict[str, list[dict[str, object]]]:
    tabs = b.tables()
    tabs["consommation"][0]["date_ej"] = "01/03/24"  # a blocking finding on a line: the porteur gets a workbook
    return tabs


def _earlier(pid: str, period: str, day: dt.date, courriel: str, porteur: str) -> dict[str, object]:
    return b.projet(project_id=pid, period=period, date_situation=day, courriel=courriel, porteur=porteur)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Figures, tuple[Courrier, ...]]:
    tmp = tmp_path_factory.mktemp("courriels")
    paths: list[Path] = [
        # The Hérault's two versions of 2025-T2: the second one is the newest, whatever its file name.
        b.write(tmp, "z_herault_v1.xlsx", b.projet(courriel="ancienne@herault.gouv.fr"), _bad_line()),
        b.write(tmp, "a_herault_v2.xlsx", b.projet(courriel="anne.martin@herault.gouv.fr", version=2), _bad_line()),
        # AP-2024-02 sends nothing for 2025-T2: its reminder goes to the newest of its earlier returns.
        b.write(tmp, "gironde_t4.xlsx", _earlier("AP-2024-02", "2024-T4", dt.date(2024, 12, 31),
                                                 "ancien@dgfip.finances.gouv.fr", "DDFiP de la Gironde")),
        b.write(tmp, "gironde_t1.xlsx", _earlier("AP-2024-02", "2025-T1", dt.date(2025, 3, 31),
                                                 "paul.durand@dgfip.finances.gouv.fr", "DDFiP de la Gironde")),
        # AP-2024-04's only earlier address cannot be sent to without SMTPUTF8.
        b.write(tmp, "gard_t1.xlsx", _earlier("AP-2024-04", "2025-T1", dt.date(2025, 3, 31), "josé@gard.gouv.fr",
                                              "Préfecture du Gard")),
        # AP-2024-03 has never sent anything.
    ]
    ref = _referentiel()
    figures = compute_figures(b.assess_files(paths, ref), ref, [], SCOPE)
    return figures, plan_courriers(figures, feedback_workbooks(figures), "FTAP_suivi_2025-T2.xlsx")


def test_built_plan(built: tuple[Figures, tuple[Courrier, ...]]) -> None:
    figures, courriers = built
    assert sorted(figures.missing_projects) == ["AP-2024-02", "AP-2024-03", "AP-2024-04"]
    assert [(c.kind, c.about, c.to, c.attachment) for c in courriers] == [
        (CourrierKind.SECRETARIAT, SECRETARIAT_ABOUT, None, "FTAP_suivi_2025-T2.xlsx"),
        (CourrierKind.RETOUR, "Préfecture de l'Hérault", "anne.martin@herault.gouv.fr",
         "anomalies/Prefecture_de_l_Herault_2025-T2.xlsx"),
        (CourrierKind.RAPPEL, "AP-2024-02 (Dématérialisation)", "paul.durand@dgfip.finances.gouv.fr", None),
        (CourrierKind.RAPPEL, "AP-2024-03 (Télé-procédures)", None, None),
        (CourrierKind.RAPPEL, "AP-2024-04 (Archivage)", None, None),
    ]
    assert [c.problem for c in courriers] == [
        None, None, None,
        "aucune remontée d'une période antérieure ne donne d'adresse valide (champ « Courriel du chef de projet »)",
        "l'adresse « josé@gard.gouv.fr » de la dernière remontée antérieure n'est pas une adresse électronique "
        "utilisable"]


def _record(file: str, day: dt.date | None, version: int, courriel: str | None, period: str = "2025-T2") -> ReturnRecord:
    projet = Projet(project_id="AP-2024-01", period=period, date_situation=day, version=version, courriel=courriel)
    return ReturnRecord(file=file, sha256="0" * 64, projet=projet, status=enums.RETENUE, lines_read=0, lines_kept=0,
                        lines_rejected=0)


@pytest.mark.parametrize(("records", "newest"), [
    # By date de situation first, whatever the version…
    ([_record("a.xlsx", dt.date(2025, 6, 30), 1, "a@x.fr"), _record("b.xlsx", dt.date(2025, 5, 31), 3, "b@x.fr")],
     "a.xlsx"),
    # …then by version…
    ([_record("a.xlsx", dt.date(2025, 6, 30), 2, "a@x.fr"), _record("b.xlsx", dt.date(2025, 6, 30), 1, "b@x.fr")],
     "a.xlsx"),
    # …then by file name; a date that could not be read counts as the oldest.
    ([_record("a.xlsx", dt.date(2025, 6, 30), 1, "a@x.fr"), _record("b.xlsx", dt.date(2025, 6, 30), 1, "b@x.fr"),
      _record("c.xlsx", None, 9, "c@x.fr")], "b.xlsx"),
])
def test_the_newest_return(records: Sequence[ReturnRecord], newest: str) -> None:
    assert newest_return(records).file == newest
    assert newest_return(list(reversed(records))).file == newest


@pytest.mark.parametrize(("address", "ok"), [
    ("anne.martin@herault.gouv.fr", True), ("a+tag@x.fr", True), ("o'brien@exemple.ie", True),
    ("josé@gard.gouv.fr", False), ("Anne <anne@x.fr>", False), ("anne@x", False), ("anne..martin@x.fr", False),
    (".anne@x.fr", False), ("anne@-x.fr", False), ("anne@x.fr ", False), ("a@b@x.fr", False), ("", False),
    ("a" * 65 + "@x.fr", False),
])
def test_what_counts_as_an_address(address: str, ok: bool) -> None:
    assert is_mail_address(address) is ok

"""`ftap`: the command line of the FTAP pipeline (messages in French).

`ftap check` must answer in under a second on a porteur's desk: nothing on its path imports Prefect,
and heavy modules are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_UNEXPECTED = 0, 1, 2, 3

#: argparse's own words, in French: users read `--help` and error messages.
_ARGPARSE_FR = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (possibles : %(choices)s)",
    "expected one argument": "une valeur est attendue",
    "argument %(argument_name)s: %(message)s": "option %(argument_name)s : %(message)s",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
}


def _translate(message: str) -> str:
    return _ARGPARSE_FR.get(message, message)


argparse._ = _translate  # type: ignore[attr-defined]


def _period(text: str) -> str:
    from ftap_pipeline.core.period import Period

    try:
        return str(Period.parse(text))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _date(text: str) -> str:
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"« {text} » n'est pas une date au format AAAA-MM-JJ.") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ftap",
        description="Suivi trimestriel des projets accompagnés par la DITP et financés par le FTAP (programme 349).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMANDE", required=True)

    run = sub.add_parser("run", help="produire le rapport trimestriel (ingestion, contrôle, rapprochement, rapport)",
                         description="Produit le rapport trimestriel à partir des remontées, du référentiel et des "
                                     "restitutions Chorus. Sort avec le code 0 dès que le rapport est produit, même si "
                                     "des remontées sont rejetées.")
    run.add_argument("--inputs", type=Path, default=Path("inputs"), metavar="DOSSIER",
                     help="dossier des entrées (défaut : inputs/)")
    run.add_argument("--outputs", type=Path, default=Path("outputs"), metavar="DOSSIER",
                     help="dossier des sorties (défaut : outputs/)")
    run.add_argument("--period", type=_period, default=None, metavar="AAAA-Tn",
                     help="trimestre à traiter (défaut : le dernier trimestre achevé)")

    comite = sub.add_parser("comite", help="produire le rapport arrêté à la date d'un comité de pilotage",
                            description="Mêmes données que le rapport trimestriel, arrêtées à la date du comité ; "
                                        "écrit dans outputs/comite-AAAA-MM-JJ/.")
    comite.add_argument("--date", type=_date, required=True, metavar="AAAA-MM-JJ", help="date du comité")
    comite.add_argument("--inputs", type=Path, default=Path("inputs"), metavar="DOSSIER",
                        help="dossier des entrées (défaut : inputs/)")
    comite.add_argument("--outputs", type=Path, default=Path("outputs"), metavar="DOSSIER",
                        help="dossier des sorties (défaut : outputs/)")

    check = sub.add_parser("check", help="vérifier une remontée avant de l'envoyer",
                           description="Contrôle des remontées avec les mêmes règles et les mêmes messages que le "
                                       "traitement central. Code de sortie 1 si un fichier serait rejeté ou si des "
                                       "lignes seraient écartées.")
    check.add_argument("files", nargs="+", type=Path, metavar="FICHIER", help="classeur(s) de remontée à vérifier")
    check.add_argument("--referentiel", type=Path, default=None, metavar="FICHIER",
                       help="référentiel de la DITP (facultatif : sans lui, les contrôles qui en dépendent le signalent)")
    check.add_argument("--format", choices=("table", "json"), default="table",
                       help="présentation du résultat : tableau lisible (défaut) ou JSON")

    template = sub.add_parser("template", help="écrire le modèle de remontée, vierge ou personnalisé pour un projet",
                              description="Écrit le classeur de remontée (format v1) avec ses listes déroulantes, ses "
                                          "contrôles de saisie et sa feuille d'instructions. Avec --projet, le modèle "
                                          "est fait pour un projet : son identité est préremplie et verrouillée, et il "
                                          "porte ce dont « ftap check » a besoin du référentiel pour rendre le verdict "
                                          "du traitement central sans lui.")
    template.add_argument("out", nargs="?", type=Path, default=None, metavar="FICHIER",
                          help="fichier à écrire (défaut : modele_remontee_v1.xlsx, ou modele_remontee_<projet>.xlsx)")
    template.add_argument("--projet", default=None, metavar="AP-AAAA-NN",
                          help="identifiant du projet pour lequel préparer un modèle personnalisé")
    template.add_argument("--referentiel", type=Path, default=None, metavar="FICHIER",
                          help="référentiel de la DITP où chercher le projet (défaut : inputs/reference/referentiel.xlsx)")

    demo = sub.add_parser("demo", help="écrire un jeu d'entrées de démonstration",
                          description="Écrit un jeu d'entrées réaliste : référentiel, remontées de plusieurs "
                                      "trimestres (dont quelques fichiers fautifs) et restitutions Chorus.")
    demo.add_argument("dest", nargs="?", type=Path, default=Path("inputs"), metavar="DOSSIER",
                      help="dossier à remplir (défaut : inputs/)")
    return parser


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prefect_environment(root: Path) -> None:
    """Run Prefect locally with no server to set up: ephemeral mode, state kept in `.state/`, no analytics."""
    os.environ.setdefault("PREFECT_HOME", str((root / ".state" / "prefect").resolve()))
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    # The temporary server takes 7–12 s to start on an idle machine; Prefect's 20 s give up on a busy one.
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    Path(os.environ["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)


#: What `ftap run` and `ftap comite` need beyond `pip install ftap-pipeline` (the extra of pyproject.toml).
ORCHESTRATION_INSTALL = 'pip install "ftap-pipeline[orchestration]"'


def orchestration_missing() -> bool:
    """True when Prefect is absent: a porteur's plain install leaves it out, and only the report needs it."""
    return importlib.util.find_spec("prefect") is None


def cmd_run(inputs: Path, outputs: Path, period: str | None, committee_date: str | None) -> int:
    from ftap_pipeline.contract.errors import InputError

    if orchestration_missing():
        _say(f"Rapport non produit : l'orchestrateur Prefect, dont « ftap run » et « ftap comite » ont besoin, n'est "
             f"pas installé. Installez-le avec : {ORCHESTRATION_INSTALL} (« ftap check », « ftap template » et "
             f"« ftap demo » fonctionnent sans lui).")
        return EXIT_ERROR
    prefect_environment(Path.cwd())
    progress = logging.StreamHandler(sys.stderr)
    progress.setFormatter(logging.Formatter("%(message)s"))
    logging.getLogger("ftap").addHandler(progress)
    logging.getLogger("ftap").setLevel(logging.INFO)
    logging.getLogger("ftap").propagate = False  # Prefect logs in English on the root logger
    _say("Démarrage du traitement (orchestrateur Prefect local, quelques secondes)…")
    from flows.rapport_trimestriel import rapport_trimestriel

    try:
        path = rapport_trimestriel(inputs=str(inputs), outputs=str(outputs), period=period,
                                   committee_date=committee_date)
    except InputError as exc:
        _say(f"Rapport non produit : {exc.message}")
        _say_findings(exc)
        return EXIT_ERROR
    except OSError as exc:
        _say(f"Rapport non produit : {exc.strerror or exc} ({exc.filename or ''})")
        return EXIT_ERROR
    _say(f"Rapport écrit : {path}")
    return EXIT_OK


def cmd_check(files: Sequence[Path], referentiel: Path | None, fmt: str) -> int:
    from ftap_pipeline.check import check_files, render_json, render_table
    from ftap_pipeline.contract.errors import InputError

    missing = [f for f in files if not f.is_file()]
    if missing:
        _say("Fichier introuvable : " + ", ".join(str(f) for f in missing))
        return EXIT_ERROR
    try:
        result = check_files(files, referentiel)
    except InputError as exc:
        _say(exc.message)
        _say_findings(exc)
        return EXIT_ERROR
    print(render_json(result) if fmt == "json" else render_table(result))
    return EXIT_FINDINGS if result.would_lose_lines else EXIT_OK


def cmd_template(out: Path | None, projet: str | None, referentiel_path: Path | None) -> int:
    """The blank template, or a personal one whose snapshot lets `ftap check` judge offline."""
    from ftap_pipeline.contract import inbox
    from ftap_pipeline.contract.errors import InputError
    from ftap_pipeline.io.return_writer import write_personal_template, write_template

    if projet is None:
        target = out or Path("modele_remontee_v1.xlsx")
        write_template(target)
        _say(f"Modèle de remontée écrit : {target}")
        return EXIT_OK
    from ftap_pipeline.core.parsing import parse_project_id
    from ftap_pipeline.io.referentiel_reader import read_referentiel

    try:
        project_id = parse_project_id(projet) or ""
        referentiel = read_referentiel(referentiel_path or Path("inputs") / inbox.REFERENCE_FILE)
    except InputError as exc:
        _say(f"Modèle non écrit : {exc.message}")
        _say_findings(exc)
        return EXIT_ERROR
    target = out or Path(f"modele_remontee_{project_id}.xlsx")
    try:
        write_personal_template(target, referentiel, project_id)
    except KeyError:
        known = ", ".join(sorted(referentiel.project_ids)) or "aucun"
        _say(f"Modèle non écrit : le projet {project_id} n'est pas dans la feuille Projets du référentiel "
             f"({referentiel.source}). Projets connus : {known}.")
        return EXIT_ERROR
    _say(f"Modèle de remontée du projet {project_id} écrit : {target} (référentiel SHA-256 "
         f"{referentiel.sha256[:12]}…).")
    return EXIT_OK


def _say_findings(exc: Exception) -> None:
    """The findings an input error stands for (the référentiel's cells), one block each, as `ftap check` shows them."""
    from ftap_pipeline.check import render_findings

    findings = getattr(exc, "findings", ())
    if findings:
        _say(render_findings(findings))


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return cmd_run(args.inputs, args.outputs, args.period, None)
    if args.command == "comite":
        return cmd_run(args.inputs, args.outputs, None, args.date)
    if args.command == "check":
        return cmd_check(args.files, args.referentiel, args.format)
    if args.command == "template":
        return cmd_template(args.out, args.projet, args.referentiel)
    if args.command == "demo":
        from ftap_pipeline.demo import write_demo

        summary = write_demo(args.dest)
        _say(f"Jeu de démonstration écrit dans {args.dest} ({summary.n_returns} remontées).")
        return EXIT_OK
    return EXIT_ERROR


def _utf8_output() -> None:
    """Write UTF-8 whatever the console: Windows redirects `ftap check … > résultat.txt` in cp1252, which has no
    `→` or `€` and would stop the command."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure") and (stream.encoding or "").lower().replace("-", "") != "utf8":
            stream.reconfigure(encoding="utf-8", errors="replace")


def main(argv: Sequence[str] | None = None) -> int:
    _utf8_output()
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except KeyboardInterrupt:
        _say("Interrompu.")
        return EXIT_ERROR
    except Exception:  # noqa: BLE001 - the last resort: a French message, the details kept for the developers
        report = Path(".state") / "erreurs" / f"ftap-{args.command}-{os.getpid()}.log"
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(traceback.format_exc(), encoding="utf-8")
        _say(f"Erreur inattendue : la commande « ftap {args.command} » n'a pas pu aller au bout. Les détails "
             f"techniques sont dans {report} ; transmettez ce fichier à l'équipe qui maintient l'outil.")
        return EXIT_UNEXPECTED


if __name__ == "__main__":
    sys.exit(main())

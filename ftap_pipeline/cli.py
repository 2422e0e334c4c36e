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
from typing import TYPE_CHECKING

from ftap_pipeline import collector

if TYPE_CHECKING:
    from flows.report_flow import FlowOutcome
    from flows.temporary_server import TemporaryServer
    from ftap_pipeline.pipeline import RunConfig

#: Exit codes (livraison-v1). `ftap check` gives 1 when a file would be rejected or lines set aside.
EXIT_OK, EXIT_NO_REPORT, EXIT_ERROR, EXIT_UNEXPECTED, EXIT_UNDELIVERED = 0, 1, 2, 3, 4
EXIT_FINDINGS = EXIT_NO_REPORT

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
                                     "restitutions Chorus, puis l'envoie. Codes de sortie : 0 rapport produit (et "
                                     "courriels remis), même si des remontées sont rejetées ; 1 aucun rapport ; 2 usage "
                                     "ou réglages incorrects ; 3 erreur inattendue ; 4 rapport produit mais des "
                                     "courriels non remis.")
    run.add_argument("--period", type=_period, default=None, metavar="AAAA-Tn",
                     help="trimestre à traiter (défaut : le dernier trimestre achevé)")
    _add_report_options(run)

    comite = sub.add_parser("comite", help="produire le rapport arrêté à la date d'un comité de pilotage",
                            description="Mêmes données que le rapport trimestriel, arrêtées à la date du comité ; "
                                        "écrit dans outputs/comite-AAAA-MM-JJ/.")
    comite.add_argument("--date", type=_date, required=True, metavar="AAAA-MM-JJ", help="date du comité")
    _add_report_options(comite)

    envois = sub.add_parser("envois", help="lister les courriels envoyés (registre des envois)",
                            description="Liste le registre des envois (outputs/envois.sqlite) : pour chaque courriel, "
                                        "le rapport, le destinataire, la pièce jointe, la réponse du serveur et l'heure.")
    envois.add_argument("--run", default=None, metavar="RAPPORT",
                        help="seulement les envois d'un rapport (ex. 2025-T2 ou comite-2025-06-12)")
    envois.add_argument("--outputs", type=Path, default=None, metavar="DOSSIER",
                        help="dossier des sorties qui tient le registre (défaut : FTAP_OUTPUTS, sinon outputs/)")

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
    template.add_argument("--force", action="store_true", help="remplacer le fichier s'il existe déjà")

    demo = sub.add_parser("demo", help="écrire un jeu d'entrées de démonstration",
                          description="Écrit un jeu d'entrées réaliste : référentiel, remontées de plusieurs "
                                      "trimestres (dont quelques fichiers fautifs) et restitutions Chorus.")
    demo.add_argument("dest", nargs="?", type=Path, default=Path("inputs"), metavar="DOSSIER",
                      help="dossier à remplir (défaut : inputs/)")
    demo.add_argument("--force", action="store_true",
                      help="écrire même si le dossier contient déjà des entrées (elles sont remplacées ou complétées)")
    return parser


def _add_report_options(command: argparse.ArgumentParser) -> None:
    """What `ftap run` and `ftap comite` share: the folders, and whether to send."""
    command.add_argument("--inputs", type=Path, default=None, metavar="DOSSIER",
                         help="dossier des entrées (défaut : FTAP_INPUTS, sinon inputs/)")
    command.add_argument("--outputs", type=Path, default=None, metavar="DOSSIER",
                         help="dossier des sorties (défaut : FTAP_OUTPUTS, sinon outputs/)")
    sending = command.add_mutually_exclusive_group()
    sending.add_argument("--send", dest="send", action="store_true", default=None,
                         help="envoyer les courriels (défaut : seulement si FTAP_SMTP_HOST est défini)")
    sending.add_argument("--no-send", dest="send", action="store_false",
                         help="ne rien envoyer : seules les copies .eml sont écrites")
    command.add_argument("--renvoyer", action="store_true",
                         help="renvoyer aussi les courriels que le registre dit déjà remis")
    command.add_argument("--task-runner", choices=("local", "dask"), default=None,
                         help="où lire les remontées : local, sur cette machine (défaut), ou dask, sur le cluster "
                              "Dask de --dask-address")
    command.add_argument("--dask-address", default=None, metavar="tcp://HÔTE:PORT",
                         help="adresse du planificateur du cluster Dask (avec --task-runner dask) ; le cluster doit "
                              "voir le dossier des entrées au même chemin")


def _say(message: str) -> None:
    """A message on the terminal; text from the inputs in it (a file name, a value) cannot carry an escape."""
    from ftap_pipeline.core.safe_text import printable

    print("\n".join(printable(line) for line in message.split("\n")), file=sys.stderr, flush=True)


#: What `ftap run` and `ftap comite` need beyond `pip install ftap-pipeline` (the extra of pyproject.toml).
ORCHESTRATION_INSTALL = 'pip install "ftap-pipeline[orchestration]"'


def orchestration_missing() -> bool:
    """True when Prefect is absent: a porteur's plain install leaves it out, and only the report needs it."""
    return importlib.util.find_spec("prefect") is None


class _PrintableFormatter(logging.Formatter):
    """Progress lines name files and values from the inputs: no escape sequence reaches the terminal."""

    def format(self, record: logging.LogRecord) -> str:
        from ftap_pipeline.core.safe_text import printable

        return "\n".join(printable(line) for line in super().format(record).split("\n"))


def _progress_to_terminal() -> None:
    """The pipeline's French progress lines on the terminal; Prefect's own console output (English, with its
    tracebacks) is left to the run's logs on the server, and the command says what went wrong in French."""
    from flows.server import mute_console

    mute_console()
    progress = logging.StreamHandler(sys.stderr)
    progress.setFormatter(_PrintableFormatter("%(message)s"))
    logger = logging.getLogger("ftap")
    logger.addHandler(progress)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # Prefect logs in English on the root logger


def cmd_run(args: argparse.Namespace) -> int:
    """`ftap run` and `ftap comite`: settings and parameters checked, then the flow, on the operator's Prefect
    server when one is configured, else on a temporary local one."""
    if orchestration_missing():
        _say(f"Rapport non produit : l'orchestrateur Prefect, dont « ftap run » et « ftap comite » ont besoin, n'est "
             f"pas installé. Installez-le avec : {ORCHESTRATION_INSTALL} (« ftap check », « ftap template » et "
             f"« ftap demo » fonctionnent sans lui).")
        return EXIT_ERROR
    collector.pause()  # until the inputs are read (collector.py)
    from flows import server

    server.local_defaults()
    early = server.start_early()  # first: its start overlaps the imports and everything that follows
    from ftap_pipeline.lean_imports import without_optional_backends

    with without_optional_backends():  # neither Dask's dataframes nor hypothesis serve a run: 0.4 s saved
        return _run(args, early)


def _run(args: argparse.Namespace, early: TemporaryServer | None) -> int:
    """`cmd_run` once the temporary server is starting (`early`, unless the environment names a server)."""
    from flows import server
    from ftap_pipeline import launch, pipeline
    from ftap_pipeline.contract.errors import InputError
    from ftap_pipeline.io import run_lock
    from ftap_pipeline.io.run_lock import RunLockedError
    from ftap_pipeline.settings import SettingsError

    url = server.configured_api_url()
    if url is not None:
        if early is not None:
            early.stop()
        if problem := server.unreachable(url):
            _say(problem)
            return EXIT_ERROR
    temporary = (early or server.start_temporary()) if url is None else None
    from flows.report_flow import settings

    try:
        chosen = settings()
        if args.command == "comite":
            config = launch.committee_config(chosen, args.inputs, args.outputs, args.date, args.send, args.renvoyer)
        else:
            config = launch.quarterly_config(chosen, args.inputs, args.outputs, args.period, args.send, args.renvoyer)
        launch.check_inputs(config.inputs)  # the flow says its warnings; a missing folder stops here
        cluster = launch.cluster(args.task_runner, args.dask_address)  # a cluster that does not answer stops here
    except SettingsError as exc:
        _say(f"Réglages incorrects, rien n'a été fait : {exc.message}")
        return EXIT_ERROR
    except launch.LaunchError as exc:
        _say(f"Rapport non produit : {exc.message}")
        return EXIT_ERROR
    _progress_to_terminal()
    where = f"serveur Prefect {url}" if url else "serveur Prefect temporaire local, quelques secondes"
    _say(f"Démarrage du traitement ({where})…")
    # The inputs are read while the server starts, and the flow's reading step takes the result; not when
    # another run holds the outputs: this one will be refused at once, and need not wait for its reading.
    if cluster is None and run_lock.is_free(config.outputs):
        pipeline.read_ahead(config)
    try:
        with server.run_settings(temporary or False):
            outcome = _run_flow(args, config)
    except RunLockedError as exc:
        _say(f"Rapport non produit : {exc.message}")
        return EXIT_NO_REPORT
    except launch.LaunchError as exc:  # a Dask cluster that answered the check but not as a scheduler
        _say(f"Rapport non produit : {exc.message}")
        return EXIT_ERROR
    except InputError as exc:
        _say(f"Rapport non produit : {exc.message}")
        _say_findings(exc)
        return EXIT_NO_REPORT
    except OSError as exc:  # disk full, read-only or forbidden outputs: said in French, the previous report intact
        from ftap_pipeline.io.write_errors import explain

        _say(f"Rapport non produit : {explain(exc)}")
        return EXIT_NO_REPORT
    finally:
        pipeline.forget_read_ahead(config)
    return EXIT_UNDELIVERED if outcome.delivery.undelivered else EXIT_OK


def _run_flow(args: argparse.Namespace, config: RunConfig) -> FlowOutcome:
    from flows.dossier_comite import dossier_comite
    from flows.rapport_trimestriel import rapport_trimestriel

    if args.command == "comite":
        return dossier_comite(date=config.scope.cutoff.isoformat(), inputs=str(config.inputs),
                              outputs=str(config.outputs), send=config.mailing.send, renvoyer=args.renvoyer,
                              task_runner=args.task_runner, dask_address=args.dask_address)
    return rapport_trimestriel(inputs=str(config.inputs), outputs=str(config.outputs), period=str(config.scope.period),
                               send=config.mailing.send, renvoyer=args.renvoyer, task_runner=args.task_runner,
                               dask_address=args.dask_address)


def cmd_envois(run: str | None, outputs: Path | None) -> int:
    from ftap_pipeline.io.ledger import LEDGER_FILE, entries, render_entries
    from ftap_pipeline.settings import SettingsError, load_folders

    try:
        configured = load_folders()[1]
    except SettingsError as exc:
        _say(f"Réglages incorrects : {exc.message}")
        return EXIT_ERROR
    folder = outputs or configured or Path("outputs")
    ledger = folder / LEDGER_FILE
    if not ledger.is_file():
        _say(f"Aucun registre des envois dans {folder.resolve()} : aucun courriel n'y a encore été envoyé.")
        return EXIT_OK
    print(render_entries(entries(ledger, run), run))
    return EXIT_OK


def cmd_check(files: Sequence[Path], referentiel: Path | None, fmt: str) -> int:
    from ftap_pipeline.lean_imports import without_optional_backends

    with without_optional_backends():
        return _check(files, referentiel, fmt)


def _check(files: Sequence[Path], referentiel: Path | None, fmt: str) -> int:
    from ftap_pipeline.contract.errors import InputError
    from ftap_pipeline.io.check_reads import start_check_reads

    missing = [f for f in files if not f.is_file()]
    if missing:
        _say("Fichier introuvable : " + ", ".join(str(f) for f in missing))
        return EXIT_ERROR
    try:
        # The files are read on the other core while pandas and pandera are imported (`io/check_reads.py`).
        reads = start_check_reads(files, referentiel)
        with collector.paused():
            from ftap_pipeline.check import check_started, render_json, render_table

        result = check_started(reads)
    except InputError as exc:
        _say(exc.message)
        _say_findings(exc)
        return EXIT_ERROR
    print(render_json(result) if fmt == "json" else render_table(result))
    return EXIT_FINDINGS if result.would_lose_lines else EXIT_OK


def _refuse_overwrite(target: Path) -> bool:
    """True (and said) when `target` exists: a template or a demo never replaces a file without `--force`."""
    if target.exists():
        _say(f"{target} existe déjà : rien n'a été écrit. Choisissez un autre nom, ou ajoutez --force pour le "
             f"remplacer.")
        return True
    return False


def cmd_template(out: Path | None, projet: str | None, referentiel_path: Path | None, force: bool) -> int:
    """The blank template, or a personal one whose snapshot lets `ftap check` judge offline."""
    from ftap_pipeline.contract import inbox
    from ftap_pipeline.contract.errors import InputError
    from ftap_pipeline.io.return_writer import write_personal_template, write_template

    if projet is None:
        target = out or Path("modele_remontee_v1.xlsx")
        if not force and _refuse_overwrite(target):
            return EXIT_ERROR
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
    if not force and _refuse_overwrite(target):
        return EXIT_ERROR
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


def cmd_demo(dest: Path, force: bool) -> int:
    """Fictitious inputs, never written over real ones unless asked."""
    from ftap_pipeline.contract import inbox
    from ftap_pipeline.demo import write_demo

    present = [p for p in (dest / inbox.REFERENCE_FILE,) if p.exists()]
    present += [p for d in (inbox.RETURNS_DIR, inbox.CHORUS_DIR) if (dest / d).is_dir() for p in (dest / d).iterdir()]
    if present and not force:
        _say(f"Le dossier {dest} contient déjà des entrées ({len(present)} fichier(s), dont {present[0]}) : le jeu de "
             f"démonstration, fictif, n'y est pas écrit. Choisissez un dossier vide, ou ajoutez --force pour écrire "
             f"par-dessus.")
        return EXIT_ERROR
    summary = write_demo(dest)
    _say(f"Jeu de démonstration écrit dans {dest} ({summary.n_returns} remontées).")
    return EXIT_OK


def _say_findings(exc: Exception) -> None:
    """The findings an input error stands for (the référentiel's cells), one block each, as `ftap check` shows them."""
    from ftap_pipeline.check import render_findings

    findings = getattr(exc, "findings", ())
    if findings:
        _say(render_findings(findings))


def _dispatch(args: argparse.Namespace) -> int:
    if args.command in ("run", "comite", "check"):
        from ftap_pipeline.io.xml_safety import xml_safety_problem

        if (problem := xml_safety_problem()) is not None:
            _say(problem)
            return EXIT_ERROR
    if args.command in ("run", "comite"):
        return cmd_run(args)
    if args.command == "envois":
        return cmd_envois(args.run, args.outputs)
    if args.command == "check":
        return cmd_check(args.files, args.referentiel, args.format)
    if args.command == "template":
        return cmd_template(args.out, args.projet, args.referentiel, args.force)
    if args.command == "demo":
        return cmd_demo(args.dest, args.force)
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


def command() -> None:
    """The `ftap` command: `main` in a process that ends with it, its garbage collector set for that
    (`collector.py`: 0.1 to 0.2 s off a check, about 1 s off a run of 1,000 returns)."""
    collector.start_command()
    code = main()
    collector.end_command()
    sys.exit(code)


if __name__ == "__main__":
    command()

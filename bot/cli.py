"""Operator commands: ``python -m bot.cli run | run-production | train | daily-jobs | …``.

Rasa is only ever a subprocess here: importing it (TensorFlow) would add seconds to every
command, and the portal code is imported inside the command that needs it for the same reason.
Messages are French, for the operators.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Protocol

from bot.policy.landlord import DEACTIVATION_MONTHS
from bot.runner import RunnerError, Stack, train_model
from bot.runner.stack import DEFAULT_RASA_TIMEOUT
from bot.settings import PROJECT_ROOT, Settings, SettingsError


class Runnable(Protocol):
    """What ``run`` and ``run-production`` drive: ``Stack`` and ``ProductionStack``."""

    @property
    def log_dir(self) -> Path: ...

    def start(self) -> None: ...

    def watch(self) -> None: ...

    def stop(self) -> None: ...

    def urls(self) -> list[tuple[str, str]]: ...


def cmd_run(args: argparse.Namespace) -> int:
    """Start everything, print the URLs, then block until Ctrl-C, SIGTERM or a crash."""
    stack = Stack(
        Settings.from_env(), PROJECT_ROOT, train=not args.no_train, rasa_timeout=args.timeout
    )
    return run_until_stopped(stack)


def cmd_run_production(args: argparse.Namespace) -> int:
    """The production topology on this machine (``bot/runner/production.py``), same loop."""
    from bot.runner.production import Topology
    from bot.runner.production_stack import ProductionStack

    try:
        topology = Topology.from_env(os.environ, PROJECT_ROOT)
    except RunnerError as error:
        print(f"Erreur : {error}", file=sys.stderr, flush=True)
        return 2
    stack = ProductionStack(
        topology, PROJECT_ROOT, train=args.train, demo=args.demo, rasa_timeout=args.timeout
    )
    return run_until_stopped(stack)


def run_until_stopped(stack: Runnable) -> int:
    """Start ``stack``, print its URLs, watch it until Ctrl-C, SIGTERM or a crash; stop it."""
    # SIGTERM (docker stop, systemd) takes the same clean path as Ctrl-C; SIGINT is set too
    # because a shell starting us in the background leaves it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.default_int_handler)
    started = False
    try:
        stack.start()
        started = True
        print_urls(stack)
        stack.watch()
    except KeyboardInterrupt:
        print("\nArrêt demandé, arrêt des services…", flush=True)
        return 0 if started else 130
    except RunnerError as error:
        print(f"\nErreur : {error}", file=sys.stderr, flush=True)
        if started:
            print("Arrêt des autres services…", file=sys.stderr, flush=True)
        return 1
    finally:
        with signals_ignored():
            stack.stop()
    return 0


def print_urls(stack: Runnable) -> None:
    lines = [*stack.urls(), ("Journaux", str(stack.log_dir))]
    width = max(len(label) for label, _ in lines)
    print("\nL'assistant est prêt :", flush=True)
    for label, url in lines:
        print(f"  {label:<{width}}  {url}")
    print("Ctrl-C pour tout arrêter.", flush=True)


@contextlib.contextmanager
def signals_ignored() -> Iterator[None]:
    """Let a shutdown finish: a second Ctrl-C must not leave children behind."""
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_train(args: argparse.Namespace) -> int:
    try:
        train_model(PROJECT_ROOT, force=args.force)
    except RunnerError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    return 0


def cmd_deactivate_moved_out(args: argparse.Namespace) -> int:
    """Meant for a daily cron job; the rule itself lives in the portal service."""
    today: date = args.today or date.today()
    count = asyncio.run(deactivate_moved_out(Settings.from_env(), today))
    print(
        f"{count} compte(s) désactivé(s) (départ depuis plus de {DEACTIVATION_MONTHS} mois au "
        f"{today:%d/%m/%Y})."
    )
    return 0


async def deactivate_moved_out(settings: Settings, today: date) -> int:
    from bot.portal.db import create_engine, session_factory
    from bot.portal.services.accounts import deactivate_moved_out as deactivate

    engine = create_engine(settings.resolved_database_url)
    try:
        async with session_factory(engine)() as session, session.begin():
            return await deactivate(session=session, today=today)
    finally:
        await engine.dispose()


#: How each count returned by the daily jobs is reported to the operator.
DAILY_JOB_LABELS = {
    "deactivated_accounts": (
        f"compte(s) désactivé(s) (départ depuis plus de {DEACTIVATION_MONTHS} mois)"
    ),
    "insurance_reminders": "rappel(s) d'échéance d'assurance habitation mis en file d'envoi",
    "expired_iban_drafts": "IBAN de demande(s) de prélèvement jamais envoyée(s) effacé(s)",
    "indexed_conversations": "conversation(s) indexée(s) pour la console du personnel",
    "expired_conversations": (
        "conversation(s) effacée(s) ou raccourcie(s) (messages plus anciens que la durée de "
        "conservation)"
    ),
    "expired_rate_limit_counters": "compteur(s) de tentatives périmé(s) effacé(s)",
}


def cmd_daily_jobs(args: argparse.Namespace) -> int:
    """Meant for a daily cron job: every idempotent job of ``bot.app.jobs``."""
    from bot.app.jobs import DailyJobsFailed, run_daily_jobs
    from bot.policy.french_dates import today_in_france

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    today: date = args.today or today_in_france()
    try:
        results, status = asyncio.run(run_daily_jobs(Settings.from_env(), today)), 0
    except DailyJobsFailed as error:
        print(f"Erreur : tâche(s) en échec : {error} (voir le journal).", file=sys.stderr)
        results, status = error.results, 1
    print(f"Tâches quotidiennes du {today:%d/%m/%Y} :")
    for name, count in results.items():
        print(f"  {count} {DAILY_JOB_LABELS.get(name, name)}")
    return status


#: Read by ``telegram-set-webhook``; ``TELEGRAM_API_BASE_URL`` (another Bot API server) is optional.
TELEGRAM_VARIABLES = ("TELEGRAM_ACCESS_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_SECRET_TOKEN")


def cmd_telegram_set_webhook(args: argparse.Namespace) -> int:
    """Tell Telegram where the channel's webhook is and which secret token to send with it."""
    from telegram.error import InvalidToken, TelegramError

    from bot.channels.telegram.bot_api import set_webhook

    missing = [name for name in TELEGRAM_VARIABLES if not os.environ.get(name)]
    if missing:
        print(
            f"Erreur : variable(s) d'environnement à définir : {', '.join(missing)}.",
            file=sys.stderr,
        )
        return 2
    url = os.environ["TELEGRAM_WEBHOOK_URL"]
    try:
        registered = asyncio.run(
            set_webhook(
                os.environ["TELEGRAM_ACCESS_TOKEN"],
                url,
                os.environ["TELEGRAM_SECRET_TOKEN"],
                base_url=os.environ.get("TELEGRAM_API_BASE_URL") or None,
            )
        )
    except ValueError as error:
        print(f"Erreur : TELEGRAM_SECRET_TOKEN invalide ({error}).", file=sys.stderr)
        return 1
    except InvalidToken:
        print("Erreur : Telegram refuse le jeton du bot (TELEGRAM_ACCESS_TOKEN).", file=sys.stderr)
        return 1
    except TelegramError as error:
        print(f"Erreur : Telegram a refusé le webhook : {error.message}", file=sys.stderr)
        return 1
    print(f"Webhook Telegram enregistré pour @{registered.bot_username} : {registered.url}")
    print("Telegram enverra le jeton secret avec chaque message ; le canal refuse les autres.")
    return 0


def cmd_create_staff_admin(args: argparse.Namespace) -> int:
    """The staff console's first administrator (``bot/staff/cli.py``)."""
    from bot.staff.cli import cmd_create_staff_admin as create_staff_admin

    return create_staff_admin(args)


def _add_today_option(command: argparse.ArgumentParser) -> None:
    """``--today``: the reference date of a dated job (tests and catch-up runs)."""
    command.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="date de référence AAAA-MM-JJ (défaut : aujourd'hui)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.cli", description="Assistant des locataires : commandes d'exploitation."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="commande")

    run = commands.add_parser("run", help="entraîne si besoin puis lance portail, actions et Rasa")
    run.add_argument("--no-train", action="store_true", help="ne pas réentraîner le modèle")
    run.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_RASA_TIMEOUT,
        help="secondes accordées au démarrage de Rasa (défaut : %(default).0f)",
    )
    run.set_defaults(handler=cmd_run)

    production = commands.add_parser(
        "run-production",
        help="lance la topologie de production sur cette machine : nginx, 2 portails, "
        "2 serveurs d'actions, 2 serveurs Rasa, PostgreSQL, Redis, relais SMTP",
    )
    production.add_argument(
        "--train", action="store_true", help="réentraîner le modèle avant de démarrer"
    )
    production.add_argument(
        "--demo",
        action="store_true",
        help="charger les données de démonstration si la base du portail est vide",
    )
    production.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_RASA_TIMEOUT,
        help="secondes accordées au démarrage de chaque serveur Rasa (défaut : %(default).0f)",
    )
    production.set_defaults(handler=cmd_run_production)

    train = commands.add_parser("train", help="entraîne le modèle Rasa (ignoré si rien n'a changé)")
    train.add_argument("--force", action="store_true", help="réentraîner même sans changement")
    train.set_defaults(handler=cmd_train)

    deactivate = commands.add_parser(
        "deactivate-moved-out",
        help=f"désactive les comptes des locataires partis depuis {DEACTIVATION_MONTHS} mois",
    )
    _add_today_option(deactivate)
    deactivate.set_defaults(handler=cmd_deactivate_moved_out)

    daily = commands.add_parser(
        "daily-jobs",
        help="tâches quotidiennes : désactivations, rappels d'échéance d'assurance habitation",
    )
    _add_today_option(daily)
    daily.set_defaults(handler=cmd_daily_jobs)

    telegram = commands.add_parser(
        "telegram-set-webhook",
        help="enregistre le webhook du canal Telegram et son jeton secret (variables TELEGRAM_*)",
    )
    telegram.set_defaults(handler=cmd_telegram_set_webhook)

    staff_admin = commands.add_parser(
        "create-staff-admin",
        help="crée un compte administrateur de la console du personnel (mot de passe demandé "
        "deux fois, ou STAFF_ADMIN_PASSWORD)",
    )
    staff_admin.add_argument("--email", required=True, help="adresse e-mail de connexion")
    staff_admin.add_argument("--name", default="", help="nom affiché (défaut : l'adresse e-mail)")
    staff_admin.set_defaults(handler=cmd_create_staff_admin)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        print(f"Configuration refusée : {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""``python -m bot.cli create-staff-admin --email ... [--name ...]``: the first administrator.

The password is typed twice (not echoed), or read from ``STAFF_ADMIN_PASSWORD`` for scripts;
the tenants' password rules apply. An email already in use is refused and changes nothing, so
running the command again is harmless. The portal code is imported only when the command runs.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from bot.settings import Settings

PASSWORD_VARIABLE = "STAFF_ADMIN_PASSWORD"


class CommandError(Exception):
    """A refusal to print in French; nothing was changed."""


def read_password() -> str:
    password = os.environ.get(PASSWORD_VARIABLE)
    if password:
        return password
    first = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmez le mot de passe : ") != first:
        raise CommandError("les deux mots de passe saisis ne sont pas identiques.")
    return first


async def create_staff_admin(settings: Settings, *, email: str, name: str, password: str) -> str:
    """Create an active administrator (tables created if needed); return its email."""
    from bot.errors import PortalError
    from bot.portal.db import create_database, create_engine, session_factory
    from bot.staff.services.accounts import create_staff_account

    settings.var_dir.mkdir(parents=True, exist_ok=True)
    engine = create_engine(settings.resolved_database_url)
    try:
        await create_database(engine)
        async with session_factory(engine).begin() as session:
            account = await create_staff_account(
                session=session,
                email=email,
                display_name=name or email,
                role="admin",
                password=password,
                actor_id=None,
            )
            return account.email
    except PortalError as error:
        raise CommandError(error.message[:1].lower() + error.message[1:]) from error
    finally:
        await engine.dispose()


def cmd_create_staff_admin(args: argparse.Namespace) -> int:
    try:
        password = read_password()
        email = asyncio.run(
            create_staff_admin(
                Settings.from_env(), email=args.email, name=args.name or "", password=password
            )
        )
    except CommandError as error:
        print(f"Erreur : {error}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\nAbandon : aucun compte créé.", file=sys.stderr)
        return 130
    print(f"Compte administrateur créé pour {email}. Connexion : /staff/connexion")
    return 0

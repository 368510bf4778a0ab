"""The staff console over a real socket: login, logout, lock-out, CSRF, roles, cookies, audit."""

from __future__ import annotations

import re
import socket
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sanic import Sanic
from sqlalchemy import update
from sqlalchemy.orm import sessionmaker

from bot.app import create_app
from bot.portal.models import StaffAccount, utcnow
from bot.portal.services import tenant_login
from bot.settings import Settings
from bot.staff.services import accounts, staff_login
from bot.staff.services import sessions as staff_sessions
from bot.staff.services.sessions import CSRF_COOKIE, IDLE_TIMEOUT, LOGIN_COOKIE
from bot.staff.web.auth import safe_next
from tests.portal.support import GOOD_PASSWORD, Portal, hidden_fields, running_portal
from tests.staff.support import (
    ACCOUNTS,
    ADMIN_EMAIL,
    AGENT_EMAIL,
    BAD_CREDENTIALS,
    FORBIDDEN,
    FORM_EXPIRED,
    HOME,
    HTML,
    LOGIN,
    StaffBrowser,
    audit_entries,
    cookie_header,
    recent,
    sets_login_cookie,
    staff_account,
    staff_tables,
    without_form_values,
)

Browsers = Callable[[], StaffBrowser]


def staff_routes() -> list[tuple[str, str]]:
    """(METHOD, path) of every route the app serves under /staff, ``<id:type>`` as ``{id}``."""
    app = create_app(Settings(var_dir=Path(tempfile.gettempdir())))
    try:
        return sorted(
            (method, re.sub(r"<(\w+)(?::\w+)?>", r"{\1}", "/" + route.path))
            for route in app.router.routes
            if route.path == "staff" or route.path.startswith("staff/")
            for method in route.methods
        )
    finally:
        Sanic._app_registry.pop(app.name, None)


ROUTES = staff_routes()
PUBLIC = {("GET", LOGIN), ("POST", LOGIN)}
PROTECTED = [route for route in ROUTES if route not in PUBLIC]
#: The login form is checked on its own (test_login_without_csrf_is_refused).
POSTS = [route for route in ROUTES if route[0] == "POST" and route[1] != LOGIN]
ADMIN_ROUTES = [route for route in ROUTES if route[1].startswith("/staff/administration")]


def _ids(routes: list[tuple[str, str]]) -> list[str]:
    return [f"{method} {path}" for method, path in routes]


def _url(path: str, staff: dict) -> str:
    """A concrete URL for a route pattern: every ``{parameter}`` becomes an existing id."""
    return re.sub(r"\{\w+\}", str(staff["agent"].id), path)


def test_the_console_routes_are_the_expected_ones() -> None:
    # New pages are covered by the parametrised tests below automatically; this list only
    # shows at a glance what this change serves.
    assert {path for _method, path in ROUTES} >= {
        "/staff",
        LOGIN,
        "/staff/deconnexion",
        "/staff/administration",
        ACCOUNTS,
        f"{ACCOUNTS}/{{account_id}}/desactivation",
        f"{ACCOUNTS}/{{account_id}}/reactivation",
        f"{ACCOUNTS}/{{account_id}}/deverrouillage",
        f"{ACCOUNTS}/{{account_id}}/role",
        "/staff/administration/journal",
    }


# --------------------------------------------------------------------------- no login, no page


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=_ids(PROTECTED))
async def test_no_console_route_is_reachable_without_login(
    portal: Portal, staff: dict, method: str, path: str
) -> None:
    before = await staff_tables(portal)

    response = await portal.client.request(method, _url(path, staff), headers=HTML)

    assert response.status_code == 303
    assert response.headers["location"].startswith(LOGIN)
    assert "Bruno" not in response.text and "Console du personnel" not in response.text
    assert await staff_tables(portal) == before


@pytest.mark.parametrize(
    "kind", ["tenant-cookie", "other-secret", "expired", "garbage", "logged-out-epoch"]
)
async def test_forged_stale_or_foreign_cookies_are_refused(
    portal: Portal, staff: dict, kind: str
) -> None:
    agent, settings, now = staff["agent"], portal.settings, utcnow()
    cookie = {
        "tenant-cookie": lambda: tenant_login.mint_login_cookie(
            settings=settings, account=agent, now=now
        ),
        "other-secret": lambda: staff_sessions.mint_login_cookie(
            settings=settings.with_overrides(secret_key="guessed"), account=agent, now=now
        ),
        "expired": lambda: staff_sessions.mint_login_cookie(
            settings=settings, account=agent, now=now - IDLE_TIMEOUT - timedelta(seconds=5)
        ),
        "garbage": lambda: "v1.1.2.3.4.5",
        "logged-out-epoch": lambda: staff_sessions.mint_login_cookie(
            settings=settings,
            account=StaffAccount(id=agent.id, password_hash=agent.password_hash, session_epoch=7),
            now=now,
        ),
    }[kind]()

    response = await portal.client.get(HOME, headers={**HTML, "Cookie": f"{LOGIN_COOKIE}={cookie}"})

    assert response.status_code == 303 and response.headers["location"] == LOGIN


# --------------------------------------------------------------------------- login and logout


async def test_login_page_is_french_accessible_and_self_contained(portal: Portal) -> None:
    page = await portal.client.get(LOGIN, headers=HTML)

    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "<main>" in page.text and "Connexion à la console du personnel" in page.text
    for field in ("email", "mot_de_passe"):
        assert f'<label for="{field}">' in page.text and f'id="{field}" name="{field}"' in page.text
    assert hidden_fields(page.text)["csrf"]
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # no CDN, no other site
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]


async def test_cookies_are_http_only_strict_scoped_to_staff(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    browser = new_browser()
    csrf = cookie_header(await browser.client.get(LOGIN), CSRF_COOKIE)

    response = await browser.login(AGENT_EMAIL)

    login = cookie_header(response, LOGIN_COOKIE)
    for header in (csrf, login):
        assert "HttpOnly" in header and "SameSite=Strict" in header
        assert "Path=/staff" in header and "Secure" not in header  # development, plain HTTP
    assert f"Max-Age={int(IDLE_TIMEOUT.total_seconds())}" in login


async def test_cookies_are_secure_outside_development(
    portal_settings: Settings, sessions: sessionmaker, portal_socket: socket.socket
) -> None:
    production = portal_settings.with_overrides(env="production")
    async with running_portal(production, portal_socket, sessions) as running:
        page = await running.client.get(LOGIN, headers=HTML)

    assert "Secure" in cookie_header(page, CSRF_COOKIE)


async def test_login_then_home_page_with_the_navigation(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    browser = new_browser()

    response = await browser.login("  Bruno.Agent@Example.org ")

    assert response.status_code == 303 and response.headers["location"] == HOME
    assert sets_login_cookie(response)
    home = await browser.client.get(HOME)
    assert home.status_code == 200 and "<h1>Console du personnel</h1>" in home.text
    assert "Bruno Agent" in home.text and "(agent)" in home.text
    nav = re.search(r'<nav class="staff-nav" aria-label="[^"]+">(.*?)</nav>', home.text, re.S)
    assert nav is not None
    for label in ("Vue d'ensemble", "Conversations", "Reprises", "Validations"):
        assert label in nav.group(1).replace("&#39;", "'")
    assert "Administration" not in nav.group(1)  # agents do not see it
    assert 'aria-current="page"' in nav.group(1)
    # Each page view renews the idle timeout.
    assert sets_login_cookie(home)
    # Already logged in: the login page leads home.
    again = await browser.client.get(LOGIN)
    assert again.status_code == 303 and again.headers["location"] == HOME


async def test_admin_sees_the_administration_link(admin: StaffBrowser) -> None:
    home = await admin.client.get("/staff")

    assert home.status_code == 200
    assert f'href="{ACCOUNTS}"' in home.text and "(administrateur)" in home.text


async def test_login_returns_to_the_page_asked_for(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    browser = new_browser()
    first = await browser.client.get("/staff/administration/journal")
    assert first.headers["location"] == f"{LOGIN}?suivant=/staff/administration/journal"

    form = hidden_fields((await browser.client.get(first.headers["location"])).text)
    assert form["suivant"] == "/staff/administration/journal"
    response = await browser.client.post(
        LOGIN, data={**form, "email": ADMIN_EMAIL, "mot_de_passe": GOOD_PASSWORD}
    )

    assert response.headers["location"] == "/staff/administration/journal"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/staff/conversations?canal=sms", "/staff/conversations?canal=sms"),
        ("/staff", "/staff"),
        ("", HOME),
        ("//evil.example/staff/", HOME),
        ("https://evil.example/staff/", HOME),
        ("/staff//evil.example", HOME),
        ("/staff/\\evil", HOME),
        ("/espace-locataire", HOME),
        ("/staffx", HOME),
        (LOGIN, HOME),
        ("/staff/\nSet-Cookie", HOME),
    ],
)
def test_only_console_pages_are_returned_to(target: str, expected: str) -> None:
    assert safe_next(target) == expected


async def test_wrong_password_unknown_email_and_deactivated_account_get_the_same_page(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    async with portal.sessions.begin() as session:
        await accounts.set_active(
            session=session,
            actor_id=staff["admin"].id,
            account_id=staff["agent"].id,
            active=False,
        )
    pages = []
    for email, password in [
        (ADMIN_EMAIL, "Mauvais-mot-de-passe-1"),
        ("personne@example.org", GOOD_PASSWORD),
        (AGENT_EMAIL, GOOD_PASSWORD),  # deactivated
        ("pas une adresse", GOOD_PASSWORD),
    ]:
        response = await new_browser().login(email, password)
        assert response.status_code == 400 and BAD_CREDENTIALS in response.text
        assert not sets_login_cookie(response)
        pages.append(without_form_values(response.text))

    assert len(set(pages)) == 1


async def test_lock_out_after_repeated_failures_then_its_end(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    browser = new_browser()
    for _ in range(staff_login.LOCK_AFTER):
        assert (await browser.login(AGENT_EMAIL, "Mauvais-mot-de-passe-1")).status_code == 400
    locked = await staff_account(portal.sessions, AGENT_EMAIL)
    assert locked.locked_until > utcnow() + staff_login.LOCK_DURATION - timedelta(minutes=1)

    # Locked: even the right password gets the usual answer, so it confirms nothing.
    refused = await browser.login(AGENT_EMAIL)
    unknown = await new_browser().login("personne@example.org")
    assert refused.status_code == 400 and not sets_login_cookie(refused)
    assert without_form_values(refused.text) == without_form_values(unknown.text)
    # Others are not affected.
    assert (await new_browser().login(ADMIN_EMAIL)).status_code == 303

    # Fifteen minutes later.
    async with portal.sessions.begin() as session:
        await session.execute(
            update(StaffAccount)
            .where(StaffAccount.id == locked.id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
    assert (await browser.login(AGENT_EMAIL)).status_code == 303
    unlocked = await staff_account(portal.sessions, AGENT_EMAIL)
    assert unlocked.failed_attempts == 0 and unlocked.locked_until is None
    reasons = [e.details["reason"] for e in await audit_entries(portal.sessions, "login_failed")]
    assert reasons == ["wrong_password"] * staff_login.LOCK_AFTER + ["locked", "unknown_email"]


async def test_an_admin_can_lift_a_lock_out(
    portal: Portal, staff: dict, admin: StaffBrowser, new_browser: Browsers
) -> None:
    browser = new_browser()
    for _ in range(staff_login.LOCK_AFTER):
        await browser.login(AGENT_EMAIL, "Mauvais-mot-de-passe-1")
    listed = await admin.client.get(ACCOUNTS)
    assert "verrouillé jusqu'à" in listed.text and "Déverrouiller" in listed.text

    done = await admin.post(f"{ACCOUNTS}/{staff['agent'].id}/deverrouillage")

    assert done.status_code == 303 and done.headers["location"] == f"{ACCOUNTS}?fait=deverrouille"
    assert (await browser.login(AGENT_EMAIL)).status_code == 303
    (entry,) = await audit_entries(portal.sessions, "staff_unlocked")
    assert (entry.staff_id, entry.target_id) == (staff["admin"].id, str(staff["agent"].id))


async def test_too_many_attempts_from_one_address_are_refused(
    portal: Portal, staff: dict, new_browser: Browsers, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(staff_login, "ATTEMPTS_PER_IP", 3)
    browser = new_browser()
    for number in range(3):
        assert (await browser.login(f"inconnu{number}@example.org")).status_code == 400

    blocked = await browser.login(ADMIN_EMAIL)

    assert blocked.status_code == 429 and "Trop de tentatives" in blocked.text
    assert not sets_login_cookie(blocked)


async def test_logout_ends_the_session_even_for_a_copied_cookie(
    portal: Portal, agent: StaffBrowser
) -> None:
    copied = agent.login_cookie

    response = await agent.post("/staff/deconnexion")

    assert response.status_code == 303 and response.headers["location"] == f"{LOGIN}?deconnecte=1"
    assert re.search(rf"{LOGIN_COOKIE}=(\"\")?;.*Max-Age=0", cookie_header(response, LOGIN_COOKIE))
    assert agent.login_cookie is None
    assert (await agent.client.get(HOME)).status_code == 303
    replay = await portal.client.get(HOME, headers={**HTML, "Cookie": f"{LOGIN_COOKIE}={copied}"})
    assert replay.status_code == 303
    farewell = await agent.client.get(f"{LOGIN}?deconnecte=1")
    assert "Vous êtes déconnecté" in farewell.text


async def test_idle_session_expires(portal: Portal, staff: dict) -> None:
    stale = staff_sessions.mint_login_cookie(
        settings=portal.settings,
        account=staff["agent"],
        now=utcnow() - IDLE_TIMEOUT + timedelta(seconds=2),
    )
    headers = {**HTML, "Cookie": f"{LOGIN_COOKIE}={stale}"}
    assert (await portal.client.get(HOME, headers=headers)).status_code == 200

    stale = staff_sessions.mint_login_cookie(
        settings=portal.settings,
        account=staff["agent"],
        now=utcnow() - IDLE_TIMEOUT - timedelta(seconds=2),
    )
    headers = {**HTML, "Cookie": f"{LOGIN_COOKIE}={stale}"}
    assert (await portal.client.get(HOME, headers=headers)).status_code == 303


# --------------------------------------------------------------------------- CSRF


async def test_login_without_csrf_is_refused(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    browser = new_browser()
    no_field = await browser.login(ADMIN_EMAIL, csrf="")
    form = hidden_fields((await browser.client.get(LOGIN)).text)
    browser.client.cookies.clear()  # a cross-site post: no CSRF cookie
    no_cookie = await browser.client.post(
        LOGIN, data={**form, "email": ADMIN_EMAIL, "mot_de_passe": GOOD_PASSWORD}
    )

    for response in (no_field, no_cookie):
        assert response.status_code == 403 and FORM_EXPIRED in response.text
        assert not sets_login_cookie(response)


@pytest.mark.parametrize(("method", "path"), POSTS, ids=_ids(POSTS))
@pytest.mark.parametrize("forge", ["missing", "wrong", "login-page-token"])
async def test_posts_without_a_valid_csrf_field_are_refused(
    portal: Portal, staff: dict, admin: StaffBrowser, method: str, path: str, forge: str
) -> None:
    token = {
        "missing": "",
        "wrong": "0" * 64,
        # Same browser and CSRF cookie, but the token of the logged-out login form.
        "login-page-token": staff_sessions.csrf_token(
            settings=portal.settings, secret=admin.client.cookies[CSRF_COOKIE], account=None
        ),
    }[forge]
    form = {"email": "x@example.org", "display_name": "X", "role": "admin", "csrf": token}
    before = await staff_tables(portal)

    response = await admin.client.post(_url(path, staff), data=form)

    assert response.status_code == 403 and FORM_EXPIRED in response.text
    assert await staff_tables(portal) == before
    assert (await admin.client.get(HOME)).status_code == 200  # still logged in


# --------------------------------------------------------------------------- roles


@pytest.mark.parametrize(("method", "path"), ADMIN_ROUTES, ids=_ids(ADMIN_ROUTES))
async def test_agents_cannot_reach_administration(
    portal: Portal, staff: dict, agent: StaffBrowser, method: str, path: str
) -> None:
    form = {"email": "x@example.org", "display_name": "X", "role": "admin"}
    if method == "POST":
        form["csrf"] = await agent.csrf()
    before = await staff_tables(portal)

    response = await agent.client.request(method, _url(path, staff), data=form)

    assert response.status_code == 403 and FORBIDDEN in response.text
    assert '<html lang="fr">' in response.text
    after = await staff_tables(portal)
    assert after["staff_accounts"] == before["staff_accounts"]
    (denied,) = await audit_entries(portal.sessions, "access_denied")
    assert denied.staff_id == staff["agent"].id and denied.details == {"path": _url(path, staff)}


async def test_admin_creates_an_agent_who_can_then_log_in(
    portal: Portal, staff: dict, admin: StaffBrowser, new_browser: Browsers
) -> None:
    page = await admin.client.get(ACCOUNTS)
    assert page.status_code == 200 and "Bruno Agent" in page.text and "(vous)" in page.text
    assert '<label for="new-email">' in page.text and "au moins 12 caractères" in page.text

    created = await admin.post(
        ACCOUNTS,
        {
            "email": "Chloe.Martin@example.org",
            "display_name": " Chloé  Martin ",
            "role": "agent",
            "mot_de_passe": "Tournesol-2025",
            "confirmation": "Tournesol-2025",
        },
    )

    assert created.status_code == 303 and created.headers["location"] == f"{ACCOUNTS}?fait=cree"
    listed = await admin.client.get(created.headers["location"])
    assert "Le compte a été créé" in listed.text and "chloe.martin@example.org" in listed.text
    chloe = await staff_account(portal.sessions, "chloe.martin@example.org")
    assert chloe.display_name == "Chloé Martin" and chloe.role == "agent" and chloe.active
    assert chloe.password_hash.startswith("$argon2id$")
    assert (
        await new_browser().login("chloe.martin@example.org", "Tournesol-2025")
    ).status_code == 303
    created_entries = await audit_entries(portal.sessions, "staff_created")
    (entry,) = [e for e in created_entries if e.target_id == str(chloe.id)]
    assert entry.staff_id == staff["admin"].id and recent(entry)
    assert entry.details == {"role": "agent", "via": "console"} and entry.ip == "127.0.0.1"


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"mot_de_passe": "court", "confirmation": "court"}, 400, "au moins 12 caractères"),
        ({"confirmation": "Autre-chose-2025"}, 400, "ne sont pas identiques"),
        ({"email": "pas-une-adresse"}, 400, "adresse e-mail n&#39;est pas valide"),
        ({"email": AGENT_EMAIL.upper()}, 409, "existe déjà"),
        ({"role": "root"}, 400, "agent » ou « administrateur"),
        ({"display_name": "  "}, 400, "nom affiché"),
    ],
)
async def test_account_creation_refusals_are_explained_and_change_nothing(
    portal: Portal, admin: StaffBrowser, fields: dict, status: int, message: str
) -> None:
    form = {
        "email": "nouveau@example.org",
        "display_name": "Nouveau",
        "role": "agent",
        "mot_de_passe": "Tournesol-2025",
        "confirmation": "Tournesol-2025",
        **fields,
    }
    before = await staff_tables(portal)

    response = await admin.post(ACCOUNTS, form)

    assert response.status_code == status and message in response.text
    assert 'value="Tournesol-2025"' not in response.text  # passwords are never sent back
    assert await staff_tables(portal) == before


async def test_deactivation_ends_the_agents_session_and_is_audited(
    portal: Portal, staff: dict, admin: StaffBrowser, agent: StaffBrowser, new_browser: Browsers
) -> None:
    agent_id = staff["agent"].id

    done = await admin.post(f"{ACCOUNTS}/{agent_id}/desactivation")

    assert done.status_code == 303 and done.headers["location"] == f"{ACCOUNTS}?fait=desactive"
    assert (await agent.client.get(HOME)).status_code == 303
    assert (await new_browser().login(AGENT_EMAIL)).status_code == 400
    (entry,) = await audit_entries(portal.sessions, "staff_deactivated")
    assert (entry.staff_id, entry.target_type, entry.target_id) == (
        staff["admin"].id,
        "staff_account",
        str(agent_id),
    )

    assert (await admin.post(f"{ACCOUNTS}/{agent_id}/reactivation")).status_code == 303
    assert (await new_browser().login(AGENT_EMAIL)).status_code == 303


async def test_role_change_applies_on_the_next_page(
    portal: Portal, staff: dict, admin: StaffBrowser, agent: StaffBrowser
) -> None:
    assert (await agent.client.get(ACCOUNTS)).status_code == 403

    done = await admin.post(f"{ACCOUNTS}/{staff['agent'].id}/role", {"role": "admin"})

    assert done.status_code == 303
    assert (await agent.client.get(ACCOUNTS)).status_code == 200
    (entry,) = await audit_entries(portal.sessions, "staff_role_changed")
    assert entry.details == {"from": "agent", "to": "admin"}


async def test_admins_cannot_lock_themselves_out(
    portal: Portal, staff: dict, admin: StaffBrowser
) -> None:
    admin_id = staff["admin"].id
    before = await staff_tables(portal)

    for path, form in [
        (f"{ACCOUNTS}/{admin_id}/desactivation", {}),
        (f"{ACCOUNTS}/{admin_id}/role", {"role": "agent"}),
    ]:
        response = await admin.post(path, form)
        assert response.status_code == 409 and "votre propre compte" in response.text

    assert await staff_tables(portal) == before


async def test_unknown_account_is_a_404(admin: StaffBrowser) -> None:
    response = await admin.post(f"{ACCOUNTS}/999999/desactivation")

    assert response.status_code == 404 and "introuvable" in response.text


# --------------------------------------------------------------------------- audit


async def test_every_staff_action_is_in_the_audit_log(
    portal: Portal, staff: dict, new_browser: Browsers
) -> None:
    admin_id, agent_id = staff["admin"].id, staff["agent"].id
    browser = new_browser()
    await browser.login(ADMIN_EMAIL, "Mauvais-mot-de-passe-1")
    await browser.login(ADMIN_EMAIL)
    await browser.post(f"{ACCOUNTS}/{agent_id}/desactivation")
    await browser.post("/staff/deconnexion")

    entries = await audit_entries(portal.sessions)

    who_what = [(e.staff_id, e.action, e.target_id) for e in entries]
    assert who_what == [
        (None, "staff_created", str(admin_id)),  # the fixture, as the CLI does it
        (admin_id, "staff_created", str(agent_id)),
        (None, "login_failed", str(admin_id)),
        (admin_id, "login", None),
        (admin_id, "staff_deactivated", str(agent_id)),
        (admin_id, "logout", None),
    ]
    assert all(recent(entry) for entry in entries)
    assert all(entry.ip == "127.0.0.1" for entry in entries[2:])
    assert entries[2].details == {"reason": "wrong_password"}
    # Nothing secret: no password, hash or token anywhere in the log.
    logged = repr([(e.details, e.target_id) for e in entries])
    assert "Mauvais" not in logged and "argon2" not in logged and GOOD_PASSWORD not in logged


async def test_the_journal_shows_the_log_to_admins(
    portal: Portal, staff: dict, admin: StaffBrowser
) -> None:
    page = await admin.client.get("/staff/administration/journal")

    assert page.status_code == 200 and "Journal des actions" in page.text
    assert "compte créé" in page.text and "connexion" in page.text
    assert ADMIN_EMAIL in page.text and "127.0.0.1" in page.text

"""The logged-in tenant page: login, its cookie and CSRF rules, and the widget session token."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.errors import TokenInvalid
from bot.portal.models import Account, AccountStatus, utcnow
from bot.portal.services import tenant_login
from bot.portal.services.passwords import hash_password
from bot.portal.services.tenant_login import CSRF_COOKIE, LOGIN_COOKIE, LOGIN_IDLE, LOGIN_MAX_AGE
from bot.portal.services.verification import mint_session_token, read_session_token
from bot.settings import Settings
from tests.portal.support import GOOD_PASSWORD, Portal, hidden_fields

HTML = {"Accept": "text/html"}
LOGIN, HOME = "/espace-locataire/connexion", "/espace-locataire"
CLAIRE, NGUYEN = "claire.dupont@example.org", "minh.nguyen@example.org"
BAD_CREDENTIALS = "Identifiant ou mot de passe incorrect."


async def set_password(portal: Portal, email: str, password: str = GOOD_PASSWORD) -> Account:
    async with portal.sessions.begin() as session:
        account = await session.scalar(select(Account).where(Account.email == email))
        account.password_hash = hash_password(password)
    return account


async def log_in(
    portal: Portal, email: str, password: str = GOOD_PASSWORD, **extra: str
) -> httpx.Response:
    """Fill in the login form as a browser does (CSRF cookie and hidden field included)."""
    form = hidden_fields((await portal.client.get(LOGIN, headers=HTML)).text)
    data = {**form, "email": email, "mot_de_passe": password, **extra}
    return await portal.client.post(LOGIN, data=data, headers=HTML)


def logs_in(response: httpx.Response) -> bool:
    """Whether the response hands the browser a (non-empty) login cookie."""
    return any(
        header.startswith(f"{LOGIN_COOKIE}=v1.")
        for header in response.headers.get_list("set-cookie")
    )


def widget_token(page: str) -> str:
    return re.search(r'data-session-token="([^"]+)"', page).group(1)


def without_form_values(page: str) -> str:
    """A page with the typed email and the per-browser CSRF token blanked out."""
    return re.sub(r'name="(csrf|email)" value="[^"]*"', r'name="\1" value=""', page)


# --------------------------------------------------------------------------- pure rules


@pytest.fixture
def account() -> Account:
    return Account(id=7, email=CLAIRE, password_hash="$argon2id$hash-one")


def test_login_cookie_round_trip(settings: Settings, account: Account) -> None:
    now = utcnow()
    cookie = tenant_login.mint_login_cookie(settings=settings, account=account, now=now)

    claims = tenant_login.read_login_cookie(settings=settings, cookie=cookie, now=now)

    assert claims is not None and claims.account_id == 7
    assert claims.expires_at == int((now + LOGIN_IDLE).timestamp())


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda c: c.replace("v1.7.", "v1.8.", 1), id="other-account"),
        pytest.param(lambda c: c[:-1] + ("0" if c[-1] != "0" else "1"), id="signature"),
        pytest.param(lambda c: c.rpartition(".")[0], id="unsigned"),
        pytest.param(lambda c: "", id="empty"),
        pytest.param(lambda c: "x" * 5000, id="garbage"),
        pytest.param(lambda c: c + ".1", id="extra-part"),
    ],
)
def test_forged_login_cookie_is_refused(settings: Settings, account: Account, change) -> None:
    now = utcnow()
    cookie = tenant_login.mint_login_cookie(settings=settings, account=account, now=now)

    assert tenant_login.read_login_cookie(settings=settings, cookie=change(cookie), now=now) is None


def test_login_cookie_expires_when_idle_and_at_maximum_age(
    settings: Settings, account: Account
) -> None:
    start = utcnow()
    cookie = tenant_login.mint_login_cookie(settings=settings, account=account, now=start)
    idle = start + LOGIN_IDLE + timedelta(seconds=1)
    assert tenant_login.read_login_cookie(settings=settings, cookie=cookie, now=idle) is None

    # Renewed on every view, yet never beyond the maximum age of the login.
    late = start + LOGIN_MAX_AGE - timedelta(minutes=1)
    renewed = tenant_login.mint_login_cookie(
        settings=settings, account=account, now=late, issued_at=int(start.timestamp())
    )
    after = start + LOGIN_MAX_AGE + timedelta(seconds=1)
    assert tenant_login.read_login_cookie(settings=settings, cookie=renewed, now=late)
    assert tenant_login.read_login_cookie(settings=settings, cookie=renewed, now=after) is None


def test_login_cookie_and_widget_token_are_not_interchangeable(
    settings: Settings, account: Account
) -> None:
    now = utcnow()
    widget = mint_session_token(settings=settings, account_id=7, now=now)
    other_secret = settings.with_overrides(secret_key="another-secret")
    cookie = tenant_login.mint_login_cookie(settings=settings, account=account, now=now)

    assert tenant_login.read_login_cookie(settings=settings, cookie=widget, now=now) is None
    assert tenant_login.read_login_cookie(settings=other_secret, cookie=cookie, now=now) is None


def test_csrf_token_goes_with_its_own_secret_only(settings: Settings) -> None:
    secret, other = tenant_login.new_csrf_secret(), tenant_login.new_csrf_secret()
    token = tenant_login.csrf_token(settings=settings, secret=secret)

    assert tenant_login.csrf_valid(settings=settings, secret=secret, token=token)
    assert not tenant_login.csrf_valid(settings=settings, secret=other, token=token)
    assert not tenant_login.csrf_valid(settings=settings, secret="", token=token)
    assert not tenant_login.csrf_valid(settings=settings, secret=secret, token="")
    assert not tenant_login.csrf_valid(settings=settings, secret=secret, token="é" * 64)


@pytest.mark.parametrize(("env", "secure"), [("development", False), ("production", True)])
def test_cookies_are_http_only_same_site_and_secure_outside_development(
    settings: Settings, env: str, secure: bool
) -> None:
    attributes = tenant_login.cookie_attributes(settings=settings.with_overrides(env=env))

    assert attributes == {
        "path": "/espace-locataire",
        "httponly": True,
        "samesite": "Lax",
        "secure": secure,
    }


# --------------------------------------------------------------------------- log in


async def test_home_page_links_to_the_login_page(portal: Portal) -> None:
    page = await portal.client.get("/", headers=HTML)

    assert 'href="/espace-locataire/connexion"' in page.text


async def test_login_page_is_french_with_a_csrf_field(portal: Portal) -> None:
    page = await portal.client.get(LOGIN, headers=HTML)

    assert page.status_code == 200 and '<html lang="fr">' in page.text
    assert "Mot de passe" in page.text and hidden_fields(page.text)["csrf"]
    assert page.headers["cache-control"] == "no-store"
    set_cookie = page.headers["set-cookie"]
    assert set_cookie.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert "Path=/espace-locataire" in set_cookie and "Secure" not in set_cookie


async def test_login_sets_a_signed_cookie_and_redirects_to_the_page(portal: Portal) -> None:
    await set_password(portal, CLAIRE)

    response = await log_in(portal, "  Claire.Dupont@example.org ")

    assert response.status_code == 303 and response.headers["location"] == HOME
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith(f"{LOGIN_COOKIE}=v1.")
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert f"Max-Age={int(LOGIN_IDLE.total_seconds())}" in set_cookie


async def test_already_logged_in_goes_straight_to_the_page(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)

    response = await portal.client.get(LOGIN, headers=HTML)

    assert response.status_code == 303 and response.headers["location"] == HOME


async def test_wrong_password_unknown_email_and_closed_accounts_get_the_same_page(
    portal: Portal,
) -> None:
    await set_password(portal, CLAIRE)
    await set_password(portal, "weber@example.org")  # deactivated (moved out)
    pages = []
    for email, password in [
        (CLAIRE, "Mauvais-mot-de-passe-1"),
        ("personne@example.org", GOOD_PASSWORD),
        ("weber@example.org", GOOD_PASSWORD),
        ("pas une adresse", GOOD_PASSWORD),
    ]:
        response = await log_in(portal, email, password)
        assert response.status_code == 400 and BAD_CREDENTIALS in response.text
        assert not logs_in(response)
        pages.append(without_form_values(response.text))

    assert len(set(pages)) == 1


async def test_pending_account_cannot_log_in(portal: Portal) -> None:
    await set_password(portal, "j.schmitt@example.org")

    response = await log_in(portal, "j.schmitt@example.org")

    assert response.status_code == 400 and BAD_CREDENTIALS in response.text
    assert (await portal.client.get(HOME, headers=HTML)).status_code == 303


async def test_typed_email_is_kept_and_escaped(portal: Portal) -> None:
    response = await log_in(portal, '"><script>alert(1)</script>')

    assert "<script>alert(1)" not in response.text
    assert 'value="&#34;&gt;&lt;script&gt;' in response.text


async def test_too_many_attempts_for_one_email_are_refused_even_with_the_password(
    portal: Portal,
) -> None:
    await set_password(portal, CLAIRE)
    for _ in range(tenant_login.ATTEMPTS_PER_EMAIL):
        assert (await log_in(portal, CLAIRE, "Mauvais-mot-de-passe-1")).status_code == 400

    blocked = await log_in(portal, CLAIRE)

    assert blocked.status_code == 429 and "Trop de tentatives" in blocked.text
    assert not logs_in(blocked)
    # Another tenant on another address is not affected.
    await set_password(portal, NGUYEN)
    assert (await log_in(portal, NGUYEN)).status_code == 303


async def test_too_many_attempts_from_one_address_are_refused(
    portal: Portal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tenant_login, "ATTEMPTS_PER_IP", 3)
    await set_password(portal, CLAIRE)
    for number in range(3):
        assert (await log_in(portal, f"inconnu{number}@example.org")).status_code == 400

    blocked = await log_in(portal, CLAIRE)

    assert blocked.status_code == 429 and "Trop de tentatives" in blocked.text


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param({"csrf": ""}, id="missing-field"),
        pytest.param({"csrf": "0" * 64}, id="wrong-field"),
        pytest.param(None, id="no-cookie"),
    ],
)
async def test_login_without_a_valid_csrf_token_is_refused(portal: Portal, forge) -> None:
    await set_password(portal, CLAIRE)
    if forge is None:
        # A cross-site post: the field copied from some page, but no CSRF cookie sent with it.
        form = hidden_fields((await portal.client.get(LOGIN, headers=HTML)).text)
        portal.client.cookies.clear()
        response = await portal.client.post(
            LOGIN, data={**form, "email": CLAIRE, "mot_de_passe": GOOD_PASSWORD}, headers=HTML
        )
    else:
        response = await log_in(portal, CLAIRE, **forge)

    assert response.status_code == 403 and "Ce formulaire a expiré" in response.text
    assert not logs_in(response)
    assert (await portal.client.get(HOME, headers=HTML)).status_code == 303


# --------------------------------------------------------------------------- the logged-in page


async def test_page_without_login_redirects_to_the_login_page(portal: Portal) -> None:
    response = await portal.client.get(HOME, headers=HTML)

    assert response.status_code == 303 and response.headers["location"] == LOGIN


@pytest.mark.parametrize("kind", ["forged", "expired", "widget-token"])
async def test_forged_or_expired_cookie_is_refused(portal: Portal, kind: str) -> None:
    account = await set_password(portal, CLAIRE)
    now = utcnow()
    cookie = {
        "forged": lambda: tenant_login.mint_login_cookie(
            settings=portal.settings.with_overrides(secret_key="guessed"), account=account, now=now
        ),
        "expired": lambda: tenant_login.mint_login_cookie(
            settings=portal.settings, account=account, now=now - LOGIN_IDLE - timedelta(seconds=5)
        ),
        "widget-token": lambda: mint_session_token(
            settings=portal.settings, account_id=account.id, now=now
        ),
    }[kind]()

    response = await portal.client.get(HOME, headers={**HTML, "Cookie": f"{LOGIN_COOKIE}={cookie}"})

    assert response.status_code == 303 and response.headers["location"] == LOGIN
    assert "Bonjour" not in response.text


async def test_page_shows_the_leases_the_unpaid_rent_and_the_widget(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)

    page = await portal.client.get(HOME, headers=HTML)

    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Bonjour Dupont" in page.text and "412,50\u00a0€" in page.text
    assert "Loyer impayé" in page.text and "chargé de clientèle" in page.text
    assert 'href="/espace-locataire/desinscription">désinscription</a>' in page.text
    assert 'action="/espace-locataire/deconnexion"' in page.text
    assert "window.ASSISTANT_WIDGET.sessionToken" in page.text  # the comment for the widget
    script = re.search(r"<script>window\.ASSISTANT_WIDGET = (.*?);</script>", page.text).group(1)
    widget = json.loads(script)
    assert widget == {
        "socketUrl": f"http://127.0.0.1:{portal.settings.rasa_port}",
        "sessionToken": widget_token(page.text),
    }
    # The idle timeout is renewed by the view.
    assert page.headers["set-cookie"].startswith(f"{LOGIN_COOKIE}=v1.")


async def test_page_without_anything_due_has_no_unpaid_notice(portal: Portal) -> None:
    await set_password(portal, NGUYEN)
    await log_in(portal, NGUYEN)

    page = await portal.client.get(HOME, headers=HTML)

    assert (
        "Bonjour Nguyen" in page.text and "Appartement" in page.text and "45,00\u00a0€" in page.text
    )
    assert "Loyer impayé" not in page.text and "Votre compte locataire est à jour" in page.text


async def test_token_of_the_page_is_short_lived(portal: Portal) -> None:
    account = await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)
    now = utcnow()

    token = widget_token((await portal.client.get(HOME, headers=HTML)).text)

    assert read_session_token(settings=portal.settings, token=token, now=now) == account.id
    later = now + timedelta(seconds=portal.settings.session_token_seconds + 2)
    with pytest.raises(TokenInvalid):
        read_session_token(settings=portal.settings, token=token, now=later)


async def test_token_of_the_page_verifies_a_conversation(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)
    token = widget_token((await portal.client.get(HOME, headers=HTML)).text)

    verified = await portal.api(
        "/api/v1/verifications/session-token", {"token": token}, conversation_id="widget-1"
    )
    me = await portal.client.get("/api/v1/me", headers=portal.headers("widget-1"))

    assert verified.status_code == 200, verified.text
    assert me.status_code == 200 and me.json()["email"] == CLAIRE
    assert me.json()["total_due"] == "412.50"


async def test_password_change_logs_the_browser_out(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)
    await set_password(portal, CLAIRE, "Un-autre-mot-de-passe-2")

    assert (await portal.client.get(HOME, headers=HTML)).status_code == 303


async def test_account_closed_meanwhile_logs_the_browser_out(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)
    async with portal.sessions.begin() as session:
        account = await session.scalar(select(Account).where(Account.email == CLAIRE))
        account.status = AccountStatus.DEACTIVATED

    assert (await portal.client.get(HOME, headers=HTML)).status_code == 303


# --------------------------------------------------------------------------- log out, unsubscribe


async def test_logout_clears_the_cookie(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)
    form = hidden_fields((await portal.client.get(HOME, headers=HTML)).text)

    response = await portal.client.post("/espace-locataire/deconnexion", data=form, headers=HTML)

    assert response.status_code == 303
    assert response.headers["location"] == f"{LOGIN}?deconnecte=1"
    assert re.search(rf"{LOGIN_COOKIE}=(\"\")?;.*Max-Age=0", response.headers["set-cookie"])
    assert LOGIN_COOKIE not in portal.client.cookies
    assert (await portal.client.get(HOME, headers=HTML)).status_code == 303
    farewell = await portal.client.get(response.headers["location"], headers=HTML)
    assert "Vous êtes déconnecté" in farewell.text


async def test_logout_without_csrf_token_is_refused(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)

    response = await portal.client.post("/espace-locataire/deconnexion", headers=HTML)

    assert response.status_code == 403 and "Ce formulaire a expiré" in response.text
    assert (await portal.client.get(HOME, headers=HTML)).status_code == 200


async def test_unsubscribe_from_the_page(portal: Portal) -> None:
    await set_password(portal, CLAIRE)
    await log_in(portal, CLAIRE)
    confirm = await portal.client.get("/espace-locataire/desinscription", headers=HTML)
    assert "Confirmer ma désinscription" in confirm.text

    refused = await portal.client.post("/espace-locataire/desinscription", headers=HTML)
    assert refused.status_code == 403
    done = await portal.client.post(
        "/espace-locataire/desinscription", data=hidden_fields(confirm.text), headers=HTML
    )

    assert done.status_code == 200 and "Désinscription enregistrée" in done.text
    async with portal.sessions() as session:
        account = await session.scalar(select(Account).where(Account.email == CLAIRE))
    assert account.status == AccountStatus.UNSUBSCRIBED
    assert (await portal.client.get(HOME, headers=HTML)).status_code == 303


async def test_unsubscribe_page_needs_a_login(portal: Portal) -> None:
    response = await portal.client.get("/espace-locataire/desinscription", headers=HTML)

    assert response.status_code == 303 and response.headers["location"] == LOGIN

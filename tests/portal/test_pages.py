"""The pages emailed links lead to, under bad input: a French page, never a 500, nothing changed."""

from __future__ import annotations

import pytest

from tests.portal.support import GOOD_PASSWORD, MARTIN, Mailbox, Portal

HTML = {"Accept": "text/html"}
FORMS = ["/compte/activer", "/compte/nouveau-mot-de-passe"]


def _assert_french_page(response, status: int, *sentences: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text
    for sentence in sentences:
        assert sentence in response.text


async def test_home_page(portal: Portal) -> None:
    response = await portal.client.get("/", headers=HTML)

    _assert_french_page(response, 200, "Espace locataire", "boîte aux lettres de développement")


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="no-token"),
        pytest.param("?jeton=", id="empty"),
        pytest.param("?jeton=inconnu", id="unknown"),
        pytest.param("?jeton=" + "a" * 5000, id="huge"),
        pytest.param("?jeton=%3Cscript%3Ealert(1)%3C/script%3E", id="markup"),
        pytest.param("?jeton=a&jeton=b", id="twice"),
    ],
)
async def test_link_with_a_bad_token(portal: Portal, path: str, query: str) -> None:
    response = await portal.client.get(path + query, headers=HTML)

    _assert_french_page(response, 410, "Ce lien n'est plus valable", "n'est pas reconnu")
    assert "<script>" not in response.text


@pytest.mark.parametrize("path", FORMS)
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        pytest.param(b"", None, id="empty"),
        pytest.param(b'{"jeton": "x"}', "application/json", id="json"),
        pytest.param(b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded", id="bytes"),
        pytest.param(b"--x\r\nbroken", "multipart/form-data", id="multipart-no-boundary"),
        pytest.param(b"--x\r\nbroken", "multipart/form-data; boundary=x", id="multipart-cut"),
        pytest.param(b"jeton=x&mot_de_passe=a&confirmation=a", None, id="unknown-token"),
    ],
)
async def test_form_posted_with_a_bad_body(
    portal: Portal, path: str, content: bytes, content_type: str | None
) -> None:
    headers = {**HTML, "Content-Type": content_type or "application/x-www-form-urlencoded"}
    before = await portal.snapshot()

    response = await portal.client.post(path, content=content, headers=headers)

    _assert_french_page(response, 410, "Ce lien n'est plus valable")
    assert await portal.snapshot() == before


async def test_overlong_password_field_is_refused(portal: Portal, mailbox: Mailbox) -> None:
    await portal.api("/api/v1/registrations", MARTIN)
    email = await mailbox.wait_for(to=MARTIN["email"], subject="Activez")
    before = await portal.snapshot()

    response = await portal.submit_password(email.links[0], "Aa1" + "x" * 600)

    _assert_french_page(response, 400, "Valeur trop longue.")
    assert await portal.snapshot() == before
    assert (await portal.submit_password(email.links[0], GOOD_PASSWORD)).status_code == 200


async def test_activation_link_does_not_open_the_password_reset_page(
    portal: Portal, mailbox: Mailbox
) -> None:
    await portal.api("/api/v1/registrations", MARTIN)
    email = await mailbox.wait_for(to=MARTIN["email"], subject="Activez")
    reset_link = email.links[0].replace("/compte/activer", "/compte/nouveau-mot-de-passe")

    response = await portal.open_link(reset_link)

    _assert_french_page(response, 410, "Ce lien n'est plus valable")


@pytest.mark.parametrize("path", FORMS)
async def test_body_larger_than_the_limit_is_refused(portal: Portal, path: str) -> None:
    before = await portal.snapshot()

    response = await portal.client.post(
        path, data={"jeton": "x", "mot_de_passe": "y" * 1_100_000}, headers=HTML
    )

    _assert_french_page(response, 413, "Contenu trop volumineux.")
    assert await portal.snapshot() == before


async def test_unknown_page_is_a_french_404(portal: Portal) -> None:
    response = await portal.client.get("/compte/inconnu", headers=HTML)

    _assert_french_page(response, 404, "Page introuvable.", "Retour à l'accueil")


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
async def test_wrong_method_is_a_french_405(portal: Portal, method: str) -> None:
    for path in FORMS:
        response = await portal.client.request(method, path, headers=HTML)
        _assert_french_page(response, 405, "Méthode non autorisée.")


async def test_pages_keep_the_token_out_of_referers_and_caches(
    portal: Portal, mailbox: Mailbox
) -> None:
    await portal.api("/api/v1/registrations", MARTIN)
    email = await mailbox.wait_for(to=MARTIN["email"], subject="Activez")

    for response in (
        await portal.open_link(email.links[0]),
        await portal.client.get("/compte/activer?jeton=inconnu", headers=HTML),
    ):
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["cache-control"] == "no-store"

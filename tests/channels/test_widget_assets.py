"""The website chat widget as the portal serves it: its files over a real socket, with their
content types and caching headers, the clear 503 when the npm dependency is missing, the
CORS answers a widget on another site needs, and the pages that embed it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from bot.portal.api import widget_assets
from bot.settings import Settings
from tests.portal.support import Portal, verify_conversation
from tests.portal.test_tenant_pages import HOME, log_in, set_password
from tests.portal.test_uploads import new_slot, pdf_file

HTML = {"Accept": "text/html"}
ELSEWHERE = {"Origin": "https://bailleur.example"}
SCRIPT_TAG = re.compile(r'<script src="/widget/widget\.js"[^>]*></script>')
NGUYEN = "minh.nguyen@example.org"


@pytest.fixture
def portal_settings(settings: Settings) -> Settings:
    """The widget's files do not depend on the database: SQLite only."""
    return settings


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("widget.js", "text/javascript; charset=utf-8"),
        ("widget.css", "text/css; charset=utf-8"),
        ("messages.fr.json", "application/json; charset=utf-8"),
    ],
)
async def test_widget_files_are_served_with_their_type_and_caching(
    portal: Portal, name: str, content_type: str
) -> None:
    response = await portal.client.get(f"/widget/{name}", headers=ELSEWHERE)

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == (widget_assets.STATIC_DIR / name).read_bytes()
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["x-content-type-options"] == "nosniff"
    # Embeddable on another site: the widget fetches its labels and config from there.
    assert response.headers["access-control-allow-origin"] == "*"

    again = await portal.client.get(
        f"/widget/{name}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    "path",
    ["/widget/secret.py", "/widget/..%2F..%2Fsettings.py", "/widget/package.json", "/widget/"],
)
async def test_only_the_widget_files_are_served(portal: Portal, path: str) -> None:
    response = await portal.client.get(path)

    assert response.status_code == 404


async def test_the_socketio_client_is_served_from_node_modules(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = tmp_path / "socket.io.min.js"
    vendor.write_text("/*! Socket.IO v4.8.4 */ window.io = function () {};\n")
    monkeypatch.setattr(widget_assets, "VENDOR_FILE", vendor)

    response = await portal.client.get("/widget/vendor/socket.io.min.js")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.content == vendor.read_bytes()


def test_the_vendor_file_is_the_one_npm_installs() -> None:
    webchat = Path(widget_assets.__file__).resolve().parents[2] / "channels" / "webchat"
    installed = webchat / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
    assert installed == widget_assets.VENDOR_FILE
    package = json.loads((webchat / "package.json").read_text())
    lock = json.loads((webchat / "package-lock.json").read_text())
    assert package["dependencies"] == {"socket.io-client": "4.8.4"}
    assert lock["packages"]["node_modules/socket.io-client"]["version"] == "4.8.4"


async def test_a_missing_npm_install_gets_a_clear_503(
    portal: Portal, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(widget_assets, "VENDOR_FILE", tmp_path / "absent" / "socket.io.min.js")

    response = await portal.client.get("/widget/vendor/socket.io.min.js")

    assert response.status_code == 503
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["cache-control"] == "no-store"
    assert "n'est pas installé" in response.text  # French
    assert "is not installed" in response.text  # English
    assert "scripts/bootstrap-web" in response.text


async def test_config_names_rasa_on_the_host_the_browser_used(portal: Portal) -> None:
    settings = portal.settings

    response = await portal.client.get("/widget/config.json")

    assert response.status_code == 200
    assert response.json() == {
        "socketUrl": f"http://127.0.0.1:{settings.rasa_port}",
        "uploadOrigin": settings.public_base_url,
    }
    assert response.headers["cache-control"] == "no-cache"


def test_every_label_the_widget_uses_is_in_the_dictionary() -> None:
    script = (widget_assets.STATIC_DIR / "widget.js").read_text()
    labels = json.loads((widget_assets.STATIC_DIR / "messages.fr.json").read_text())

    used = set(re.findall(r"""\bt\(\s*"(\w+)\"""", script))

    assert used and used <= set(labels)
    # No French sentence is hard-coded in the script: wording lives in the dictionary.
    assert not re.search(r'"[^"\n]*[éèàêç][^"\n]*"', script)


# --------------------------------------------------------------------------- uploads, widget


async def test_the_upload_form_accepts_a_file_from_a_widget_on_another_site(
    portal: Portal,
) -> None:
    await verify_conversation(portal, NGUYEN, "widget-upload")
    slot = await new_slot(portal, "widget-upload")
    path = urlsplit(slot["upload_url"]).path

    preflight = await portal.client.options(
        path, headers={**ELSEWHERE, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-methods"] == "POST"

    sent = await portal.client.post(
        path, files={"fichier": ("rib.pdf", pdf_file(), "application/pdf")}, headers=ELSEWHERE
    )
    assert sent.status_code == 200
    assert sent.headers["access-control-allow-origin"] == "*"

    used = await portal.client.post(
        path, files={"fichier": ("rib.pdf", pdf_file(), "application/pdf")}, headers=ELSEWHERE
    )
    assert used.status_code == 410
    assert used.headers["access-control-allow-origin"] == "*"


async def test_other_routes_get_no_cors_header(portal: Portal) -> None:
    response = await portal.client.get("/", headers={**HTML, **ELSEWHERE})

    assert "access-control-allow-origin" not in response.headers


# --------------------------------------------------------------------------- pages embedding it


async def test_the_home_page_embeds_the_widget(portal: Portal) -> None:
    page = await portal.client.get("/", headers=HTML)

    assert page.status_code == 200
    (tag,) = SCRIPT_TAG.findall(page.text)
    assert 'data-init-payload="/greet"' in tag and "defer" in tag


async def test_the_tenant_page_embeds_the_widget_with_its_session_token(portal: Portal) -> None:
    await set_password(portal, NGUYEN)
    logged_in = await log_in(portal, NGUYEN)
    assert logged_in.status_code == 303

    page = await portal.client.get(HOME, headers=HTML)

    assert page.status_code == 200
    (tag,) = SCRIPT_TAG.findall(page.text)
    assert "defer" in tag
    config = page.text.index("window.ASSISTANT_WIDGET = ")
    assert config < page.text.index(tag), "the settings must exist before the widget starts"
    assert '<div id="assistant-widget"' in page.text
    assert "window.AssistantWidget.forget()" in page.text


def test_a_public_rasa_url_wins_over_the_guess_from_the_host() -> None:
    def request(public: str) -> SimpleNamespace:
        settings = Settings().with_overrides(rasa_public_url=public, rasa_port=5005)
        app = SimpleNamespace(ctx=SimpleNamespace(settings=settings))
        return SimpleNamespace(app=app, host="portail.example.org:8000", scheme="https")

    assert widget_assets.socket_url(request("")) == "https://portail.example.org:5005"
    assert (
        widget_assets.socket_url(request("https://chat.example.org/")) == "https://chat.example.org"
    )

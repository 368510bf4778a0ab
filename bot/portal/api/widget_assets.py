"""The website chat widget's files, served by the portal so that one script tag embeds it.

::

    GET /widget/widget.js  widget.css  messages.fr.json   bot/channels/webchat/static/ (no build)
    GET /widget/vendor/socket.io.min.js                    npm, installed by scripts/bootstrap-web
    GET /widget/config.json                                where Rasa's socket.io server is
    OPTIONS /depot/<token>                                 CORS preflight of the upload form

The widget may sit on another site than the portal: its files and the upload form's answers
carry ``Access-Control-Allow-Origin: *``. That is safe because none of them depends on cookies:
the upload form is authorised by the single-use token in its URL alone.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

from sanic import Blueprint, Request, Sanic
from sanic.response import HTTPResponse, empty, json, raw, text

WEBCHAT_DIR = Path(__file__).resolve().parents[2] / "channels" / "webchat"
STATIC_DIR = WEBCHAT_DIR / "static"
VENDOR_FILE = WEBCHAT_DIR / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"

JAVASCRIPT = "text/javascript; charset=utf-8"
#: The only files served from STATIC_DIR, with their content type.
STATIC_FILES = {
    "widget.js": JAVASCRIPT,
    "widget.css": "text/css; charset=utf-8",
    "messages.fr.json": "application/json; charset=utf-8",
}
#: Our own files change with each release: cached briefly, then revalidated by ETag.
OWN_CACHE = "public, max-age=300"
#: The vendor file is pinned by package-lock.json: it changes only when the pin does.
VENDOR_CACHE = "public, max-age=86400"
CORS = {"Access-Control-Allow-Origin": "*"}
_ASSET_HEADERS = {
    **CORS,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "cross-origin",
}
VENDOR_MISSING = (
    "Le widget de discussion n'est pas installé sur ce serveur : lancez scripts/bootstrap-web "
    "(npm ci dans bot/channels/webchat).\n"
    "The chat widget's browser dependency (socket.io-client) is not installed: "
    "run scripts/bootstrap-web (npm ci in bot/channels/webchat).\n"
)
UPLOAD_PREFIX = "/depot/"


class WidgetBlueprint(Blueprint):
    """A blueprint that also lets the widget read the upload form's answers from another site."""

    def register(self, app: Sanic, options: dict) -> None:
        super().register(app, options)
        app.register_middleware(_upload_cors, attach_to="response")


bp = WidgetBlueprint("widget_assets")


async def _upload_cors(request: Request, response: HTTPResponse) -> None:
    if request.path.startswith(UPLOAD_PREFIX):
        response.headers.update(CORS)


@lru_cache(maxsize=16)
def _read(path: Path, _mtime_ns: int, _size: int) -> tuple[bytes, str]:
    """The file's bytes and ETag; the cache key changes whenever the file does."""
    body = path.read_bytes()
    return body, f'"{hashlib.sha256(body).hexdigest()[:20]}"'


def _asset(request: Request, path: Path, content_type: str, cache: str) -> HTTPResponse:
    stat = path.stat()
    body, etag = _read(path, stat.st_mtime_ns, stat.st_size)
    headers = {**_ASSET_HEADERS, "Cache-Control": cache, "ETag": etag}
    if etag in request.headers.get("if-none-match", ""):
        return empty(status=304, headers=headers)
    return raw(body, content_type=content_type, headers=headers)


@bp.get("/widget/<name:str>")
async def static_file(request: Request, name: str) -> HTTPResponse:
    content_type = STATIC_FILES.get(name)
    path = STATIC_DIR / name
    if content_type is None or not path.is_file():
        return text("Fichier introuvable. / Not found.\n", status=404, headers=CORS)
    return _asset(request, path, content_type, OWN_CACHE)


@bp.get("/widget/vendor/socket.io.min.js")
async def socketio_client(request: Request) -> HTTPResponse:
    if not VENDOR_FILE.is_file():
        return text(VENDOR_MISSING, status=503, headers={**CORS, "Cache-Control": "no-store"})
    return _asset(request, VENDOR_FILE, JAVASCRIPT, VENDOR_CACHE)


def socket_url(request: Request) -> str:
    """Where the browser reaches Rasa's socket.io server: ``RASA_PUBLIC_URL`` when set (production,
    behind a proxy), else Rasa's own port on the host the browser used to reach the portal."""
    settings = request.app.ctx.settings
    if settings.rasa_public_url:
        return settings.rasa_public_url.rstrip("/")
    host = urlsplit(f"//{request.host}").hostname or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"{request.scheme}://{host}:{settings.rasa_port}"


@bp.get("/widget/config.json")
async def config(request: Request) -> HTTPResponse:
    """Defaults for a page that names no socket URL; the origin whose upload links it may use."""
    public = urlsplit(request.app.ctx.settings.public_base_url)
    body = {
        "socketUrl": socket_url(request),
        "uploadOrigin": f"{public.scheme}://{public.netloc}",
    }
    return json(body, headers={**CORS, "Cache-Control": "no-cache"})


@bp.options("/depot/<token>")
async def upload_preflight(request: Request, token: str) -> HTTPResponse:
    return empty(
        headers={
            **CORS,
            "Access-Control-Allow-Methods": "POST",
            "Access-Control-Max-Age": "600",
        }
    )

"""A fake Telegram Bot API on loopback, for python-telegram-bot pointed at it with ``base_url``.

It answers the methods the channel calls and records every call::

    POST /bot<token>/<method>        getMe, sendMessage, sendPhoto, sendDocument,
                                     answerCallbackQuery, getFile, setWebhook
    GET  /file/bot<token>/<path>     the bytes of a file registered with ``add_file``
    POST /depot/<token>              the portal's upload page (multipart field ``fichier``)

``fail(method, ...)`` makes the next calls of a method fail as Telegram does (status code,
``description``, ``parameters.retry_after``). aiohttp serves it: it is not Sanic, so it can
run beside the Sanic app under test without sharing Sanic's global state.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Ophéa", "username": "ophea_test_bot"}
# Parameters python-telegram-bot sends JSON-encoded in its form fields.
_JSON_FIELDS = {"reply_markup", "link_preview_options", "allowed_updates"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Upload:
    token: str
    filename: str
    content_type: str
    data: bytes


@dataclass
class FakeTelegram:
    token: str
    calls: list[Call] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    #: Status the upload page answers with (200: stored).
    upload_status: int = 200
    _files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    _failures: dict[str, list[tuple[int, dict[str, Any]]]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    url: str = ""
    _message_ids: int = 0

    # ------------------------------------------------------------------ control

    async def __aenter__(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._file)
        app.router.add_post("/depot/{token}", self._upload)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    def fail(
        self,
        method: str,
        *,
        status: int = 502,
        description: str = "Bad Gateway",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """The next ``times`` calls of ``method`` fail (``download`` for file downloads)."""
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self._failures.setdefault(method, []).extend([(status, body)] * times)

    def failures_left(self, method: str) -> int:
        return len(self._failures.get(method, []))

    def add_file(self, file_id: str, data: bytes, path: str = "documents/file_0.pdf") -> None:
        self._files[file_id] = (path, data)

    def sent(self, method: str) -> list[dict[str, Any]]:
        """Parameters of every call of ``method`` that succeeded, oldest first."""
        return [call.params for call in self.calls if call.method == method]

    def texts(self) -> list[str]:
        return [params["text"] for params in self.sent("sendMessage")]

    def upload_url(self, token: str) -> str:
        return f"{self.url}/depot/{token}"

    # ------------------------------------------------------------------ handlers

    def _failure(self, method: str) -> web.Response | None:
        queued = self._failures.get(method)
        if not queued:
            return None
        status, body = queued.pop(0)
        return web.json_response(body, status=status)

    async def _method(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        if (failure := self._failure(method)) is not None:
            return failure
        params = {key: _decode(key, value) for key, value in (await request.post()).items()}
        result = self._result(method, params)
        if result is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        self.calls.append(Call(method, params))
        return web.json_response({"ok": True, "result": result})

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method in ("sendMessage", "sendPhoto", "sendDocument"):
            self._message_ids += 1
            message: dict[str, Any] = {
                "message_id": self._message_ids,
                "date": int(time.time()),
                "chat": {"id": int(params["chat_id"]), "type": "private"},
                "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            return message
        if method in ("answerCallbackQuery", "setWebhook"):
            return True
        if method == "getFile":
            path, data = self._files[params["file_id"]]
            return {
                "file_id": params["file_id"],
                "file_unique_id": f"u{params['file_id']}",
                "file_size": len(data),
                "file_path": path,
            }
        return None

    async def _file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        if (failure := self._failure("download")) is not None:
            return failure
        for path, data in self._files.values():
            if path == request.match_info["path"]:
                self.calls.append(Call("download", {"path": path}))
                return web.Response(body=data)
        return web.Response(status=404)

    async def _upload(self, request: web.Request) -> web.Response:
        if (failure := self._failure("upload")) is not None:
            return failure
        form = await request.post()
        sent = form.get("fichier")
        if isinstance(sent, web.FileField):
            with sent.file:
                data = sent.file.read()
            if self.upload_status == 200:
                self.uploads.append(
                    Upload(
                        token=request.match_info["token"],
                        filename=sent.filename,
                        content_type=sent.content_type,
                        data=data,
                    )
                )
        return web.Response(text="<p>Fichier reçu</p>", status=self.upload_status)


def _decode(key: str, value: Any) -> Any:
    if key in _JSON_FIELDS and isinstance(value, str):
        return json.loads(value)
    return value

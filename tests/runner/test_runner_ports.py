"""A taken port is reported before anything starts, in French, with the variable that moves it."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.runner import PortInUse, ProcessSpec, Supervisor, ensure_port_free, port_is_free


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_taken_port_message_names_port_process_and_variable(taken_port: int) -> None:
    with pytest.raises(PortInUse) as caught:
        ensure_port_free(taken_port, label="le serveur Rasa", env_var="RASA_PORT", host="127.0.0.1")

    message = str(caught.value)
    assert f"Le port {taken_port} est déjà utilisé" in message
    assert "le serveur Rasa" in message
    assert f"RASA_PORT={taken_port + 1}" in message
    assert caught.value.port == taken_port


def test_listener_on_loopback_blocks_a_server_binding_all_interfaces(taken_port: int) -> None:
    assert not port_is_free(taken_port, "0.0.0.0")


def test_closed_port_is_free() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert port_is_free(port, "127.0.0.1")
    ensure_port_free(port, label="le portail", host="127.0.0.1")


def test_supervisor_launches_nothing_when_a_port_is_taken(taken_port: int, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    spec = ProcessSpec(
        name="portal",
        argv=(sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"),
        log_dir=tmp_path / "logs",
        port=taken_port,
        bind_host="127.0.0.1",
        port_env_var="PORTAL_PORT",
        label="le portail",
    )
    supervisor = Supervisor([spec], echo=lambda _: None)

    with pytest.raises(PortInUse, match="PORTAL_PORT"):
        supervisor.start()

    assert supervisor.processes == []
    assert not marker.exists()

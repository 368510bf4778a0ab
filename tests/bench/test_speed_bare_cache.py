"""The bare bot's cache: trained once, again only when its model is missing or of another Rasa."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from bench.speed.bare import Step, model_version, next_step, server_spec


def write_model(path: Path, version: str | None, *, mtime: float | None = None) -> Path:
    """A model archive like Rasa's: its ``metadata.json`` names the Rasa that trained it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        if version is not None:
            body = json.dumps({"rasa_open_source_version": version}).encode()
            info = tarfile.TarInfo("metadata.json")
            info.size = len(body)
            archive.addfile(info, io.BytesIO(body))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def init_project(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "domain.yml").write_text("version: '3.1'\n")
    return path


def test_no_project_yet_means_rasa_init(tmp_path):
    assert next_step(tmp_path / "bare", "3.6.21") is Step.INIT
    write_model(tmp_path / "bare" / "models" / "m.tar.gz", "3.6.21")
    assert next_step(tmp_path / "bare", "3.6.21") is Step.INIT  # a model without its project


def test_project_without_model_is_trained(tmp_path):
    assert next_step(init_project(tmp_path), "3.6.21") is Step.TRAIN


def test_model_of_this_rasa_is_reused(tmp_path):
    write_model(init_project(tmp_path) / "models" / "m.tar.gz", "3.6.21")
    assert next_step(tmp_path, "3.6.21") is Step.REUSE


def test_model_of_another_rasa_is_retrained(tmp_path):
    write_model(init_project(tmp_path) / "models" / "m.tar.gz", "3.6.20")
    assert next_step(tmp_path, "3.6.21") is Step.TRAIN


def test_the_newest_model_decides(tmp_path):
    models = init_project(tmp_path) / "models"
    write_model(models / "b-old.tar.gz", "3.6.21", mtime=1_000)
    write_model(models / "a-new.tar.gz", "3.5.0", mtime=2_000)
    assert next_step(tmp_path, "3.6.21") is Step.TRAIN


def test_an_unreadable_model_has_no_version(tmp_path):
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not a tar")
    assert model_version(broken) is None
    assert model_version(write_model(tmp_path / "bare.tar.gz", None)) is None


def test_the_bare_server_listens_on_loopback_only_and_answers_health_on_its_port(tmp_path):
    spec = server_spec(5123, tmp_path)
    assert spec.argv[-6:] == ("run", "--enable-api", "--interface", "127.0.0.1", "--port", "5123")
    assert spec.health_url == "http://127.0.0.1:5123/"
    assert spec.cwd == tmp_path
    assert spec.env["RASA_TELEMETRY_ENABLED"] == "false"

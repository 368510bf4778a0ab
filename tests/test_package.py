"""The package as ``pip install`` makes it: the wheel built from this checkout carries the files
the code reads next to its modules, declares its dependencies, and the portal runs from it.

The wheel is built offline (``--no-build-isolation``, the venv's setuptools) from a copy of
``pyproject.toml``, ``bot/`` and ``actions/``: setuptools writes ``build/`` into the tree it
builds. It is installed with ``--no-deps`` into a fresh venv that sees the project venv's
third-party packages through a ``.pth`` file holding a plain path, so that directory's own ``.pth``
files (among them the editable install's finder, which maps ``bot`` to this checkout) are not run.
The portal is then started from that venv in a directory outside the checkout.

The browser file the portal serves from npm's folder (socket.io-client) must be installed before
the wheel is built: ``scripts/bootstrap-web``, which ``make test`` runs.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: The module that starts the portal: ``python -m PORTAL_MODULE``.
PORTAL_MODULE = "bot.app"
DISTRIBUTION = "tenant-assistant"
ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "actions")
#: The only file of npm's folder in the wheel: the portal serves it (widget_assets.VENDOR_FILE).
VENDOR_JS = "bot/channels/webchat/node_modules/socket.io-client/dist/socket.io.min.js"
#: Directory names whose files the code reads next to its modules, whatever their suffix.
DATA_DIRS = {"templates", "static"}
DATA_SUFFIXES = {".yml", ".yaml", ".mako"}
START_SECONDS = 90
#: What the portal's subprocesses keep of this environment: nothing that configures the portal.
KEPT_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")

CHECK_INSTALL = """
import json
import sys
from importlib.metadata import distribution, distributions

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import actions
import bot

installed = {}
for dist in distributions():  # in sys.path order: the first of a name is the one imported
    if dist.metadata["Name"]:
        installed.setdefault(canonicalize_name(dist.metadata["Name"]), dist.version)
package = distribution(sys.argv[1])
unmet = []
for line in package.requires or []:
    requirement = Requirement(line)
    if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
        continue  # an extra (dev tools)
    version = installed.get(canonicalize_name(requirement.name))
    if version is None or not requirement.specifier.contains(version, prereleases=True):
        unmet.append(f"{line} (installed: {version})")
print(json.dumps({
    "bot": bot.__file__,
    "actions": actions.__file__,
    "metadata": str(package.locate_file("")),
    "unmet": unmet,
}))
"""


def _skip_build_files(directory: str, names: list[str]) -> set[str]:
    return {name for name in names if name == "__pycache__" or name.endswith(".pyc")}


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of what the wheel is built from, taken once."""
    tree = tmp_path_factory.mktemp("source")
    shutil.copy2(ROOT / "pyproject.toml", tree / "pyproject.toml")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tree / package, ignore=_skip_build_files)
    return tree


@pytest.fixture(scope="module")
def wheel(source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--quiet", "--wheel-dir", str(out), str(source)],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("*.whl")
    return built


def _expected_files(tree: Path) -> set[str]:
    """Every module and every data file of the packages in ``tree``: templates and static files
    of any package, YAML, Mako; npm's folder only for the file the portal serves."""
    expected = {VENDOR_JS}
    for package in PACKAGES:
        for path in (tree / package).rglob("*"):
            parts = path.relative_to(tree).parts
            if not path.is_file() or "__pycache__" in parts or "node_modules" in parts:
                continue
            if path.suffix == ".py" or path.suffix in DATA_SUFFIXES or DATA_DIRS & set(parts):
                expected.add("/".join(parts))
    return expected


def _metadata(wheel: Path) -> list[Requirement]:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        headers = HeaderParser().parsestr(archive.read(name).decode())
    return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def test_wheel_carries_modules_templates_data_and_the_served_vendor_file(
    source: Path, wheel: Path
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())

    missing = sorted(_expected_files(source) - names)
    assert not missing, (
        f"not in the wheel: {missing} (socket.io-client comes from scripts/bootstrap-web; other "
        "files need a pattern in [tool.setuptools.package-data] of pyproject.toml)"
    )
    for kind in ("/templates/", "/static/", ".yml", ".mako", "/migrations/versions/"):
        assert any(kind in name for name in names), kind
    npm = sorted(n for n in names if "node_modules" in n and n != VENDOR_JS)
    assert not npm
    # Rasa's project (domain.yml, config.yml, data/, models/) stays in the project directory.
    outside = sorted(n for n in names if n.split("/")[0] not in PACKAGES and ".dist-info/" not in n)
    assert not outside


def test_wheel_declares_the_requirements_of_requirements_in(wheel: Path) -> None:
    """Each requirement of requirements.in, with its pin, runtime or ``dev``; nothing pinned
    beyond it (the others are named unpinned: rasa's pins decide their versions)."""
    pinned = {}
    for line in (ROOT / "requirements.in").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            pinned[canonicalize_name(requirement.name)] = requirement.specifier
    declared = {canonicalize_name(r.name): r for r in _metadata(wheel)}

    assert {name: declared[name].specifier for name in pinned if name in declared} == pinned
    extra = {name: str(r.specifier) for name, r in declared.items() if name not in pinned}
    assert all(specifier == "" for specifier in extra.values()), extra
    dev = {name for name, r in declared.items() if r.marker and r.marker.evaluate({"extra": "dev"})}
    assert {"pytest", "pytest-asyncio", "ruff", "import-linter"} <= dev
    assert {"rasa", "rasa-sdk", "python-stdnum", "holidays"}.isdisjoint(dev)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _env(**values: str) -> dict[str, str]:
    env = {name: os.environ[name] for name in KEPT_ENV if name in os.environ}
    return {**env, "PYTHONNOUSERSITE": "1", "RASA_TELEMETRY_ENABLED": "false", **values}


def _venv_with_wheel(wheel: Path, venv: Path) -> Path:
    """A fresh venv holding the wheel alone, seeing the project venv's packages after its own."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps"]
    subprocess.run([*install, "--no-index", "--quiet", str(wheel)], check=True, timeout=300)
    site_dir = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    ).stdout.strip()
    ours = sysconfig.get_paths()
    lines = dict.fromkeys([ours["purelib"], ours["platlib"]])
    (Path(site_dir) / "project_venv.pth").write_text("".join(f"{line}\n" for line in lines))
    return python


def _wait_for_health(client: httpx.Client, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the portal stopped ({process.returncode}):\n{log.read_text()[-4000:]}")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    pytest.fail(
        f"the portal did not answer /health in {START_SECONDS} s:\n{log.read_text()[-4000:]}"
    )


def test_portal_runs_from_the_installed_wheel(source: Path, wheel: Path, tmp_path: Path) -> None:
    assert not tmp_path.is_relative_to(ROOT)
    venv = (tmp_path / "venv").resolve()
    python = _venv_with_wheel(wheel, venv)
    work = tmp_path / "work"  # python -m puts the working directory first on sys.path
    work.mkdir()

    check = subprocess.run(
        [str(python), "-c", CHECK_INSTALL, DISTRIBUTION],
        cwd=work,
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    installed = json.loads(check.stdout.splitlines()[-1])
    for imported in ("bot", "actions", "metadata"):
        assert Path(installed[imported]).resolve().is_relative_to(venv), installed
    assert installed["unmet"] == []

    widget_js = (source / "bot/channels/webchat/static/widget.js").read_bytes()
    vendor_js = (source / VENDOR_JS).read_bytes()
    port = _free_port()
    env = _env(
        ASSISTANT_ENV="development",
        ASSISTANT_VAR_DIR=str(tmp_path / "var"),
        PORTAL_HOST="127.0.0.1",
        PORTAL_PORT=str(port),
    )
    log = tmp_path / "portal.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(python), "-m", PORTAL_MODULE], cwd=work, env=env, stdout=output, stderr=output
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            _wait_for_health(client, process, log)
            # the database was made by the wheel's Alembic scripts
            assert client.get("/ready").status_code == 200
            # pages rendered from the portal's, the tenant space's and the console's templates
            for page in ("/", "/espace-locataire/connexion", "/staff/connexion"):
                response = client.get(page)
                assert response.status_code == 200, (page, response.text[:500])
                assert response.headers["content-type"].startswith("text/html"), page
                assert "</html>" in response.text, page
            widget = client.get("/widget/widget.js")
            assert (widget.status_code, widget.content) == (200, widget_js)
            vendor = client.get("/widget/vendor/socket.io.min.js")
            assert (vendor.status_code, vendor.content) == (200, vendor_js)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

"""The layer contracts of ``.importlinter`` hold on this tree and catch a layer crossing.

The test command runs ``lint-imports`` too; these tests show that each contract bites: a
copy of the tree with one forbidden import added fails with that contract named.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for package in ("bot", "actions"):
        shutil.copytree(
            ROOT / package,
            tmp_path / package,
            ignore=shutil.ignore_patterns("node_modules", "__pycache__", "templates", "static"),
        )
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    return tmp_path


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "forbidden_import", "contract"),
    [
        ("bot/portal/services/accounts.py", "import bot.staff.services.audit", "portal never"),
        ("bot/portal/api/pages.py", "import bot.staff.web", "portal never"),
        ("actions/balance.py", "import bot.portal.services.balance", "only over HTTP"),
        ("bot/channels/rest.py", "import bot.portal.models", "only over HTTP"),
        ("bot/portal/services/accounts.py", "import bot.web.inputs", "Services never"),
        ("bot/staff/services/audit.py", "import sanic", "Services never"),
        ("bot/web/errors.py", "import bot.staff.errors", "shared web edge"),
    ],
)
def test_a_layer_crossing_breaks_its_contract(
    tree_copy: Path, module: str, forbidden_import: str, contract: str
) -> None:
    path = tree_copy / module
    path.write_text(path.read_text() + f"\n{forbidden_import}  # noqa\n")

    result = lint_imports(tree_copy)

    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken and forbidden_import.split()[1] in broken

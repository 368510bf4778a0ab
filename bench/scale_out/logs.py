"""What went wrong inside a production stack during the run, read from its var directory.

A failed reply says little by itself; the stack's logs say why. Counted per log file: errors
(error level, tracebacks) and warnings (warning level, nginx's ``[warn]``), with the first few
different lines; and nginx's replies of 500 and above, by status, from its access log. The
libraries' deprecation notices at import (logger ``py.warnings``) are nobody's doing here.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

ERROR = re.compile(
    r'"level": "(error|critical)"|\b(ERROR|CRITICAL)\b|Traceback|\[(error|crit|alert|emerg)\]'
)
WARNING = re.compile(r'"level": "warning"|\[warn\]')
IMPORT_NOTICE = '"logger": "py.warnings"'
STATUS = re.compile(r'" (\d{3}) ')
DIGITS = re.compile(r"\d+")
SAMPLES = 3
SAMPLE_CHARS = 300


def level(line: str) -> str | None:
    if ERROR.search(line):
        return "errors"
    if WARNING.search(line) and IMPORT_NOTICE not in line:
        return "warnings"
    return None


def problem_lines(path: Path) -> dict[str, Any]:
    """Errors and warnings in ``path``, and the first few different lines of each."""
    counts: Counter[str] = Counter()
    samples: dict[str, list[str]] = {"errors": [], "warnings": []}
    shapes: set[str] = set()
    with path.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            found = level(line)
            if found is None:
                continue
            counts[found] += 1
            sample = line.strip()[:SAMPLE_CHARS]
            # Lines that differ only by their numbers (times, pids, files) are one sample.
            shape = DIGITS.sub("#", sample)
            if len(samples[found]) < SAMPLES and shape not in shapes:
                shapes.add(shape)
                samples[found].append(sample)
    if not counts:
        return {}
    return {**counts, "samples": samples["errors"] + samples["warnings"]}


def server_errors(access_log: Path) -> dict[str, int]:
    """Replies of 500 and above that nginx sent, by status."""
    statuses: Counter[str] = Counter()
    with access_log.open(encoding="utf-8", errors="replace") as lines:
        for line in lines:
            found = STATUS.search(line)
            if found and found.group(1) >= "500":
                statuses[found.group(1)] += 1
    return dict(statuses)


def log_problems(var_dir: Path) -> dict[str, Any]:
    """Per log file under ``var_dir`` that has any: what ``problem_lines`` found, or, for
    nginx's access log, its 5xx replies."""
    found: dict[str, Any] = {}
    for path in sorted(var_dir.rglob("*.log")):
        name = str(path.relative_to(var_dir))
        if path.name == "access.log":
            statuses = server_errors(path)
            if statuses:
                found[name] = {"errors": sum(statuses.values()), "statuses": statuses}
        elif problems := problem_lines(path):
            found[name] = problems
    return found

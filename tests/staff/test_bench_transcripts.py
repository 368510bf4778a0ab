"""The transcript benchmark runs end to end on a small store, and its index and baseline agree
on what they count (the run stops otherwise): its figures are about the same work."""

from __future__ import annotations

from pathlib import Path

from bench import transcripts


def test_the_benchmark_compares_the_same_pages_and_overview(tmp_path: Path) -> None:
    output = tmp_path / "TRANSCRIPTS.md"

    assert (
        transcripts.main(["--conversations", "120", "--repeat", "2", "--output", str(output)]) == 0
    )

    report = output.read_text(encoding="utf-8")
    assert "| first page | 50 |" in report
    assert "| last 90 days | 120 |" in report  # the whole synthetic quarter
    assert "| last 30 days | 40 |" in report
    assert "baseline / index" in report

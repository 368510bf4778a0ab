"""The bench's profile (issue 11): py-spy's folded stacks ranked by share of the samples."""

from __future__ import annotations

from pathlib import Path

from bench.speed.profile import entries_markdown, frame_name, top_entries

SITE = "/work/.venv/lib/python3.10/site-packages"
FOLDED = f"""\
main (bot/runner/rasa_main.py);handle_message ({SITE}/rasa/core/processor.py);validate ({SITE}/jsonschema/validators.py) 60
main (bot/runner/rasa_main.py);handle_message ({SITE}/rasa/core/processor.py);predict ({SITE}/rasa/core/policies/ted_policy.py) 30
main (bot/runner/rasa_main.py);handle_message ({SITE}/rasa/core/processor.py) 10
main (bot/runner/rasa_main.py);recurse (a.py);recurse (a.py) 0
"""  # noqa: E501


def test_functions_are_ranked_by_their_share_of_the_samples(tmp_path: Path) -> None:
    folded = tmp_path / "turns.folded"
    folded.write_text(FOLDED)

    entries = {entry.function: entry for entry in top_entries(folded)}

    validate = entries["validate (jsonschema/validators.py)"]
    assert (validate.inclusive, validate.own) == (0.6, 0.6)
    handle = entries["handle_message (rasa/core/processor.py)"]
    assert (handle.inclusive, handle.own) == (1.0, 0.1)
    assert [entry.function for entry in top_entries(folded, limit=2)][1] in {
        "handle_message (rasa/core/processor.py)",
        "main (bot/runner/rasa_main.py)",
    }


def test_the_table_leaves_out_what_every_sample_shares(tmp_path: Path) -> None:
    folded = tmp_path / "turns.folded"
    folded.write_text(FOLDED)

    table = entries_markdown(top_entries(folded))

    assert "| `validate (jsonschema/validators.py)` | 60.0% | 60.0% |" in table
    assert "handle_message" not in table and "rasa_main" not in table


def test_a_frame_is_named_from_its_package_on() -> None:
    named = frame_name(f"run ({SITE}/rasa/core/actions/action.py)")
    assert named == "run (rasa/core/actions/action.py)"
    assert frame_name("<module> (/usr/lib/python3.10/runpy.py)") == "<module> (python3.10/runpy.py)"
    assert frame_name(f"save ({SITE}/rasa/core/tracker_store.py:1096)") == (
        "save (rasa/core/tracker_store.py)"
    )

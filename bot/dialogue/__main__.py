"""`python -m bot.dialogue`: write data/flow_rules.yml from bot/dialogue/flows.yml."""

from __future__ import annotations

from pathlib import Path

from bot.dialogue.rules import render
from bot.dialogue.table import load

OUTPUT = Path(__file__).resolve().parents[2] / "data" / "flow_rules.yml"


def main() -> None:
    OUTPUT.write_text(render(load()), encoding="utf-8")
    print(f"{OUTPUT} written")


if __name__ == "__main__":
    main()

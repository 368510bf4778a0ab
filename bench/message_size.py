"""What one long message costs, with and without the channels' size limit, in one run.

Starts the stack on free loopback ports (as the end-to-end tests do), then for each length
sends a message of that many characters twice: through Rasa's NLU directly
(``POST /model/parse``, what every channel did before the limit) and through the REST channel
(what a tenant's message goes through now). Reported: the time to answer and the growth of the
Rasa process's peak resident memory (``VmHWM``). Bounded: the NLU side stops at the first
length that costs more than ``--stop-mb`` (a 100 000-character message took 20.8 GB and the
kernel killed the server; 40 000, 4.4 GB).

    .venv/bin/python -m bench.message_size [--lengths 500,1000,2000,5000,10000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import httpx

from bot.runner.ports import free_port
from bot.runner.stack import Stack
from bot.settings import Settings

WORDS = "je voudrais payer mon loyer et mettre en place le prélèvement automatique "


def peak_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def text_of(length: int) -> str:
    return (WORDS * (length // len(WORDS) + 1))[:length]


def measure(http: httpx.Client, pid: int, url: str, body: dict) -> tuple[float, int]:
    before = peak_kb(pid)
    started = time.monotonic()
    http.post(url, json=body).raise_for_status()
    return time.monotonic() - started, peak_kb(pid) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="500,1000,2000,5000,10000,20000")
    parser.add_argument("--stop-mb", type=int, default=1500)
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    settings = Settings().with_overrides(
        var_dir=Path(tempfile.mkdtemp(prefix="bench-size-")),
        portal_port=free_port(),
        rasa_port=free_port(),
        actions_port=free_port(),
        smtp_port=free_port(),
    )
    rows = []
    with (
        Stack(settings, train=False, echo=lambda *_: None) as stack,
        httpx.Client(timeout=600) as http,
    ):
        (rasa,) = [p for p in stack.supervisor.processes if p.name == "rasa"]
        rasa_url = f"http://127.0.0.1:{settings.rasa_port}"
        parse = f"{rasa_url}/model/parse?token={settings.rasa_api_token}"
        webhook = f"{rasa_url}/webhooks/rest/webhook"
        http.post(webhook, json={"sender": "bench-warm", "message": "bonjour"})
        nlu_stopped = False
        for length in lengths:
            text = text_of(length)
            channel = measure(
                http, rasa.pid, webhook, {"sender": f"bench-{length}", "message": text}
            )
            nlu = None if nlu_stopped else measure(http, rasa.pid, parse, {"text": text})
            nlu_stopped = nlu_stopped or (nlu is not None and nlu[1] > args.stop_mb * 1024)
            rows.append({"characters": length, "channel": channel, "nlu": nlu})
    print(
        "| characters | NLU directly: s | NLU: peak RSS +MB"
        " | through the channel: s | channel: peak RSS +MB |"
    )
    print("|---|---|---|---|---|")
    for row in rows:
        nlu = row["nlu"]
        nlu_cells = f"{nlu[0]:.3f} | {nlu[1] / 1024:.0f}" if nlu else "not run | (over the stop)"
        channel = row["channel"]
        print(f"| {row['characters']} | {nlu_cells} | {channel[0]:.3f} | {channel[1] / 1024:.0f} |")
    print(json.dumps(rows))


if __name__ == "__main__":
    main()

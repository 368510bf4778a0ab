"""Conversation test bench: scenarios over the REST channel against the real running stack.

Run it with ``make conversations`` or ``.venv/bin/python -m bench.conversations --help``; the
scenarios are in ``bench/conversations/scenarios/<category>.yml`` (README.md beside this file).
"""

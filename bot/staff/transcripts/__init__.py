"""Transcripts in the staff console: an index of the conversations Rasa keeps, and reading them.

::

    tracker.py      read-only access to Rasa's tracker store (``events``; texts already redacted)
    index.py        ConversationSummary rows refreshed incrementally from ``events``
    digest.py       what a run of events says about a conversation (no database)
    flows.py        the flows the index follows (form that starts one, response that ends it)
    queries.py      list filters, keyset pages, a conversation's transcript
    annotations.py  staff tags, notes and reviews (portal tables, never the tracker store)
    export.py       CSV / JSON exports, streamed

The pages are ``bot/staff/web/conversations.py``; the benchmark is ``bench/transcripts.py``.
"""

"""Staff taking a conversation over from the bot, and handing it back.

::

    tenant ── "je veux parler à un conseiller" ──> action_handoff ──> portal: HandoffRequest
    agent  ── /staff/reprises: take ──> portal: taken by, when (audit) ──> Rasa: {"event": "pause"}
    tenant ── message ──> Rasa logs it, the paused bot does not answer ──> agent's page (polled)
    agent  ── reply ──> Rasa: {"event": "bot"} through the handoff's channel, side effects on
    agent  ── hand back ──> portal: closed (audit) ──> Rasa: {"event": "resume"}

``rasa_api`` is the client of Rasa's HTTP API; ``transcript`` turns a tracker into the lines
the agent reads. The pages are ``bot/staff/web/takeover.py``; the record of who holds which
conversation is ``bot/portal/services/handoff.py``.
"""

"""The staff console's pages under ``/staff``: one blueprint per area, served as one group.

A new section adds its blueprint to ``console`` below (``bot/app/__init__.py`` registers
the group once) and guards each handler with ``auth.staff_required``.
"""

from __future__ import annotations

from sanic import Blueprint

from bot.staff.web import (
    admin,
    conversation_exports,
    conversations,
    erasure,
    home,
    login,
    takeover,
    validations,
)

console = Blueprint.group(
    login.bp,
    home.bp,
    admin.bp,
    erasure.bp,
    takeover.bp,
    conversations.bp,
    conversation_exports.bp,
    validations.bp,
)

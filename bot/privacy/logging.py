"""Log redaction: no IBAN, card number, one-time code or token reaches a log line.

``install_log_redaction()`` is called once at start-up by each process:

- the Rasa server: by ``MaskingSQLTrackerStore.__init__`` (Rasa builds the tracker store from
  ``endpoints.yml`` before it serves the first message; it runs no other code of ours);
- the portal: ``bot/portal/__main__.py``;
- the action server: ``actions/__init__.py`` (``rasa_sdk`` imports the package at start-up).

It wraps the log record factory, so every record of every logger is redacted when it is
created, whatever handlers Rasa, Sanic or coloredlogs add later: a filter on a logger would
only see that logger's own records, not those propagated from its children. The same work
is available as ``RedactingFilter`` for handler configurations; it is also put on the root
handlers and on Sanic's and Rasa's loggers, because attributes passed as ``extra`` (the
request line of ``sanic.access``) are set on a record only after the factory has built it.

In log lines a tenant's message sits among other words, so every stand-alone 6-digit number
is treated as a one-time code (``strict_codes``): a process id may be masked, a code never
shows. Rasa 3.6 logs through structlog into standard ``logging`` (``LoggerFactory``), so its
rendered JSON or console lines pass through the factory like any other record.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from bot.privacy.redaction import redact_text

#: Loggers that get the filter as well (records with ``extra`` attributes, own handlers).
REDACTED_LOGGERS = ("", "rasa", "rasa_sdk", "sanic.root", "sanic.error", "sanic.access")
#: ``extra`` attributes that carry request data (Sanic's access log).
EXTRA_TEXT_ATTRIBUTES = ("request",)

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DONE = "_privacy_redacted"
_formatter = logging.Formatter()


def redact_log_text(text: str) -> str:
    """``text`` redacted as a log line: every stand-alone 6-digit number counts as a code.

    Colours (Rasa's console renderer on a terminal) are dropped from a line only when
    something in it had to be masked: an escape code glued to a value hides its start.
    """
    plain = _ANSI.sub("", text) if "\x1b[" in text else text
    redacted = redact_text(plain, strict_codes=True)
    return text if redacted == plain else redacted


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record in place: message (``msg`` % ``args``), traceback, request extras."""
    if not getattr(record, _DONE, False):
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is for the handler to report
            message = None
        if message is not None:
            redacted = redact_log_text(message)
            if redacted != message:
                record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = _formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_log_text(record.stack_info)
        setattr(record, _DONE, True)
    for name in EXTRA_TEXT_ATTRIBUTES:
        value = record.__dict__.get(name)
        if isinstance(value, str):
            record.__dict__[name] = redact_log_text(value)
    return record


class RedactingFilter(logging.Filter):
    """Lets every record through, redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


_FILTER = RedactingFilter()


class _RedactingFactory:
    """The log record factory, wrapped; kept as an object so installing twice is visible."""

    def __init__(self, wrapped: Callable[..., logging.LogRecord]):
        self.wrapped = wrapped

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact_record(self.wrapped(*args, **kwargs))


def install_log_redaction(logger_names: Iterable[str] = REDACTED_LOGGERS) -> None:
    """Redact every log record of this process from now on. Safe to call more than once."""
    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))
    for name in logger_names:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            if _FILTER not in target.filters:
                target.addFilter(_FILTER)


def uninstall_log_redaction(logger_names: Iterable[str] = REDACTED_LOGGERS) -> None:
    """Undo ``install_log_redaction()`` (tests)."""
    factory = logging.getLogRecordFactory()
    if isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(factory.wrapped)
    for name in logger_names:
        logger = logging.getLogger(name)
        for target in (logger, *logger.handlers):
            target.removeFilter(_FILTER)

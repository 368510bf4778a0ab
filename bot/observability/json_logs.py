"""In production every log record is one JSON line (structlog's renderer); plain text otherwise.

A log collector reads JSON without guessing where a multi-line traceback ends or which part of
a line is the logger's name. :func:`install_json_logs` gives the JSON formatter to the handlers
that exist when it is called (the root logger's, Sanic's, Rasa's): call it once logging is set
up (the portal in ``create_app``, the action server in its ``main``, the Rasa server once Rasa
has built its app, ``bot.runner.rasa_probes``).

Redaction (``bot.privacy.logging``) still applies: records are redacted when they are created,
before any formatter; the JSON formatter takes the traceback from the redacted ``exc_text``
rather than formatting the exception again, and redacts every string field once more, so
that nothing added on the way (a field of Sanic's, a traceback formatted late) escapes it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from typing import Any

import structlog
from structlog.stdlib import ProcessorFormatter
from structlog.typing import EventDict, WrappedLogger

from bot.privacy.logging import install_log_redaction, redact_log_text

#: Loggers whose handlers get the JSON formatter: the root and those with handlers of their own.
JSON_LOGGERS = ("", "sanic.root", "sanic.error", "sanic.access", "rasa", "rasa_sdk")
PRODUCTION = "production"
_formatter = logging.Formatter()


def traceback_from_record(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """``exception`` and ``stack`` from the record's redacted texts, not its live exception."""
    record: logging.LogRecord | None = event.get("_record")
    event.pop("exc_info", None)
    event.pop("stack_info", None)
    if record is None:
        return event
    if record.exc_info and not record.exc_text:
        record.exc_text = _formatter.formatException(record.exc_info)
    if record.exc_text:
        event["exception"] = record.exc_text
    if record.stack_info:
        event["stack"] = record.stack_info
    return event


def redact_fields(_logger: WrappedLogger, _name: str, event: EventDict) -> EventDict:
    """Every string field redacted as a log line (a second pass: cheap, and fail-safe)."""
    return {
        key: redact_log_text(value) if isinstance(value, str) else value
        for key, value in event.items()
    }


def json_formatter() -> ProcessorFormatter:
    """structlog's formatter for standard records: time, level, logger, event, traceback."""
    pre_chain: list[Any] = [
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        traceback_from_record,
    ]
    return ProcessorFormatter(
        foreign_pre_chain=pre_chain,
        processors=[
            ProcessorFormatter.remove_processors_meta,
            redact_fields,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )


def install_json_logs(env: str, logger_names: Iterable[str] = JSON_LOGGERS) -> bool:
    """In production, render the records of ``logger_names``' handlers as JSON lines (a root
    handler on stderr is added if there is none), warnings included. Elsewhere nothing
    changes. Idempotent.

    Returns:
        Whether JSON logs are on.
    """
    if env != PRODUCTION:
        return False
    install_log_redaction()
    # Python's and Rasa's warnings go to stderr as text unless they are log records.
    logging.captureWarnings(True)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    formatter = json_formatter()
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not isinstance(handler.formatter, ProcessorFormatter):
                handler.setFormatter(formatter)
    return True

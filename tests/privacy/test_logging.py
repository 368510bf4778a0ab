"""Log records never carry IBANs, card numbers, codes or tokens."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.privacy.logging import (
    RedactingFilter,
    install_log_redaction,
    redact_log_text,
    uninstall_log_redaction,
)
from bot.privacy.redaction import CARD_MARK, CODE_MARK, IBAN_MARK, TOKEN_MARK

IBAN = "FR76 3000 6000 0112 3456 7890 189"
CARD = "4111 1111 1111 1111"


@pytest.fixture
def installed() -> Iterator[None]:
    install_log_redaction()
    yield
    uninstall_log_redaction()


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """What a handler on a child logger (added after installation) writes."""
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("tests.privacy.child")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield buffer
    logger.removeHandler(handler)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"Received user message '{IBAN}' with intent", f"Received user message '{IBAN_MARK}'"),
        ("Received user message '123456' with intent 'inform'", f"'{CODE_MARK}'"),
        ('{"text": "4111111111111111", "event": "rest.message.received.timeout"}', CARD_MARK),
        (
            "Current slot values: \n\tverification_code: 123 456\n\tclient_number: 12345678",
            f"verification_code: {CODE_MARK}\n\tclient_number: 12345678",
        ),
        ("GET /compte/activer?jeton=AbC-123_xyz HTTP/1.1", f"jeton={TOKEN_MARK} HTTP"),
        ("\x1b[35mFR7630006000011234567890189\x1b[0m", IBAN_MARK),
    ],
)
def test_redact_log_text(line: str, expected: str) -> None:
    assert expected in redact_log_text(line)


def test_log_lines_without_secrets_keep_their_colours() -> None:
    line = "\x1b[32mINFO\x1b[0m conversation 'a1b2c3' client 12345678 paid 412,50"
    assert redact_log_text(line) == line


def test_installed_redaction_covers_child_loggers_and_arguments(
    installed: None, stream: io.StringIO
) -> None:
    logger = logging.getLogger("tests.privacy.child")
    logger.info("message from %s: %s", "conv-42", f"IBAN {IBAN}, carte {CARD}")
    logger.debug("code %r", "654321")

    written = stream.getvalue()
    assert IBAN not in written and CARD not in written and "654321" not in written
    assert f"message from conv-42: IBAN {IBAN_MARK}, carte {CARD_MARK}" in written
    assert f"code '{CODE_MARK}'" in written


def test_installed_redaction_covers_tracebacks(installed: None, stream: io.StringIO) -> None:
    logger = logging.getLogger("tests.privacy.child")
    try:
        raise ValueError(f"IBAN refusé : {IBAN}")
    except ValueError:
        logger.exception("failed for conversation %s", "conv-42")

    written = stream.getvalue()
    assert IBAN not in written
    assert IBAN_MARK in written and "conv-42" in written


def test_install_is_idempotent_and_undone(installed: None) -> None:
    factory = logging.getLogRecordFactory()
    install_log_redaction()
    assert logging.getLogRecordFactory() is factory
    access_filters = logging.getLogger("sanic.access").filters
    assert sum(isinstance(f, RedactingFilter) for f in access_filters) == 1
    uninstall_log_redaction()
    record = logging.getLogRecordFactory()("x", logging.INFO, __file__, 1, IBAN, None, None)
    assert record.getMessage() == IBAN


def test_filter_redacts_sanic_access_request_extra() -> None:
    record = logging.LogRecord("sanic.access", logging.INFO, __file__, 1, "", None, None)
    record.request = "GET http://portail/paiement/Xk3J9fQ2LmN8pR4tVw7yZ1aB"
    assert RedactingFilter().filter(record) is True
    assert record.request == f"GET http://portail/paiement/{TOKEN_MARK}"


def test_filter_leaves_broken_format_strings_to_the_handler() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("one",), None)
    assert RedactingFilter().filter(record) is True
    with pytest.raises(TypeError):
        record.getMessage()


def test_filter_redacts_exception_text() -> None:
    try:
        raise RuntimeError(CARD)
    except RuntimeError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom", None, exc_info)
    RedactingFilter().filter(record)
    assert CARD not in logging.Formatter().format(record)


def test_payment_transaction_ids_stay_readable_in_logs():
    from bot.privacy.logging import redact_log_text

    assert redact_log_text("invalid signature (trans_id=123456)") == (
        "invalid signature (trans_id=123456)"
    )
    assert "123456" not in redact_log_text("code=123456 typed")

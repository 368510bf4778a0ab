"""Columns encrypted at rest: IBANs, and emails while they wait in the outbox.

Values are encrypted with Fernet (``cryptography``: AES-128-CBC and HMAC-SHA-256, with a
timestamp) under ``settings.data_encryption_key`` (``DATA_ENCRYPTION_KEY``). A copy of the
database, a backup or a stray SQL console shows ``gAAAAA...`` where the IBAN was.

Where the key comes from. Column types are built when the models are imported, long before any
settings exist, so the key is held by this module: ``use_data_key(key)`` is called where a
process opens the portal database with its settings (the portal at start-up, the daily jobs,
the demo-data loader). A process that never called it (a one-off command, a test reading the
database) gets the key of ``Settings.from_env()``: the environment is where every process of
the system takes its settings from, so both agree.

Empty values are stored as they are (an email body cleared once sent stays visibly empty), and
a value written before its column was encrypted (no Fernet prefix) is read as it is until
``db.create_database`` seals it at the next start-up.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import LargeBinary, Text, TypeDecorator

#: Every Fernet token starts with these bytes (version 0x80, then a timestamp that fits in 32
#: bits until 2106); a clear IBAN or email body never does.
FERNET_PREFIX = "gAAAAA"

_fernet: Fernet | None = None


class DataKeyError(RuntimeError):
    """The data key is malformed, or is not the one the stored values were encrypted with."""


def use_data_key(key: str) -> None:
    """Encrypt and decrypt with ``key`` (url-safe base64 of 32 bytes) from now on."""
    global _fernet
    try:
        _fernet = Fernet(key.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as error:
        raise DataKeyError(
            "DATA_ENCRYPTION_KEY must be a Fernet key (url-safe base64 of 32 bytes)"
        ) from error


def _cipher() -> Fernet:
    if _fernet is None:
        from bot.settings import Settings  # only when no process set-up named the key

        use_data_key(Settings.from_env().data_encryption_key)
    assert _fernet is not None
    return _fernet


def encrypt_bytes(data: bytes) -> bytes:
    return _cipher().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _cipher().decrypt(token)
    except InvalidToken:
        raise DataKeyError(
            "a value of the portal database cannot be decrypted with DATA_ENCRYPTION_KEY "
            "(was the key changed?)"
        ) from None


def is_sealed(value: str | bytes) -> bool:
    """Whether ``value`` is a Fernet token (as stored), rather than a clear value."""
    prefix = FERNET_PREFIX.encode("ascii") if isinstance(value, bytes) else FERNET_PREFIX
    return value.startswith(prefix)


class EncryptedText(TypeDecorator):
    """Text stored as a Fernet token (about 1.4 times the length plus 100 characters)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        if not value:
            return value
        return encrypt_bytes(value.encode("utf-8")).decode("ascii")

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        if not value or not is_sealed(value):
            return value
        return decrypt_bytes(value.encode("ascii")).decode("utf-8")


class EncryptedBytes(TypeDecorator):
    """Bytes stored as a Fernet token (an attachment waiting in the outbox)."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: bytes | None, dialect: object) -> bytes | None:
        if not value:
            return value
        return encrypt_bytes(bytes(value))

    def process_result_value(self, value: bytes | None, dialect: object) -> bytes | None:
        if not value:
            return value
        value = bytes(value)  # PostgreSQL hands a memoryview
        return decrypt_bytes(value) if is_sealed(value) else value

"""rasa-sdk actions: thin adapters between the dialogue and the portal's JSON API.

The SDK imports every module here at start-up and in tests, so nothing connects at import time.
"""

from bot.privacy.logging import install_log_redaction

# The SDK imports this package first: from then on no log line carries an IBAN, card or code.
install_log_redaction()

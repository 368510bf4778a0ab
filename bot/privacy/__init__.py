"""Privacy: secrets are masked before anything reaches the tracker store or the logs.

- ``redaction``: pure functions masking IBANs, card numbers, one-time codes and tokens.
- ``tracker_store``: ``MaskingSQLTrackerStore``, the tracker store named in ``endpoints.yml``.
- ``logging``: ``install_log_redaction()``, the same masking for every log record.
"""

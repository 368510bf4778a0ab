"""rasa-sdk actions: thin adapters between the dialogue and the portal's JSON API.

The SDK imports every module here at start-up and in tests, so nothing connects at import time.
"""

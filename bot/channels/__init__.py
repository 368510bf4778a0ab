"""Input and output channels of the assistant: how tenants reach the Rasa server (the website
chat widget over socket.io in ``webchat/``, Telegram, SMS)."""

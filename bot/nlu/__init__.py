"""Custom Rasa NLU components of the tenant assistant (listed in config.yml)."""

"""Custom Rasa NLU components of the tenant assistant."""

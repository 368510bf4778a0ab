"""Dialogue behaviour shared by every form, written once as a table and turned into Rasa rules."""

"""Portal core: the system of record the assistant acts on (households, accounts, emails)."""

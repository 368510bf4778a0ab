"""Staff console business rules; keyword-only functions handed the session."""

"""Business rules of the portal: keyword-only functions handed the session they work in."""

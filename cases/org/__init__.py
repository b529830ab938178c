"""org domain area."""

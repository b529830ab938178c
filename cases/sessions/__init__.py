"""sessions domain area."""

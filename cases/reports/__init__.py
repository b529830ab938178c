"""reports domain area."""

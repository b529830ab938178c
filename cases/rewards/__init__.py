"""rewards domain area."""

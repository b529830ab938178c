"""notify domain area."""

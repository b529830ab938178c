"""audit domain area."""

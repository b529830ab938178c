"""staff domain area."""

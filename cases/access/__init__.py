"""access domain area."""

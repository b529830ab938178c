"""Staff work on one case: reading it, messages, notes, evidence, assignment, recorded intake."""

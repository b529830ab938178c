"""Case workflow: the transition rules, deadlines and the staff case list."""

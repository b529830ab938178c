"""questionnaires domain area: a channel's extra questions, versioned; answers sealed."""

"""Interface declarations: every method the model implements, declared once."""

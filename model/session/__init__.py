"""Sessions: stepping, reverse stepping, breakpoints and recorded interactive calls."""

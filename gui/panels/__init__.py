"""The window's panels, one module each, named after what they show."""

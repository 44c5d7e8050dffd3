"""Pictures of the window and its panels: one path for `dmaviz shot`, the gallery and File → Export Picture.

``views`` is plain Python (the command line reads it before deciding to start Qt);
``renderer`` draws and encodes the pictures; ``dialog`` is the window's Export Picture dialog.
"""

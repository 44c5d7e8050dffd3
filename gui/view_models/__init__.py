"""What each panel shows, extracted from the model as plain data (no Qt), so it can be tested without painting.

Every function here reads the model side-effect-free: device registers and memory are read
from their Python state, never through ``io_read``/``mmio_read`` or ``System.call``, which
have effects and are traced.
"""

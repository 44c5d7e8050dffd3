"""Miniport drivers, each the way the classic WDK samples work; importing this registers them."""

from model.portcls.miniports import (
    ac97_wavepci,  # noqa: F401
    hda_wavecyclic,  # noqa: F401
    sb16_wavecyclic,  # noqa: F401
    virtual_wavecyclic,  # noqa: F401
)

"""Miniport drivers, each the way the classic WDK samples work; importing this registers them."""

from model.portcls.miniports import sb16_wavecyclic  # noqa: F401

"""Miniport drivers, each the way the classic WDK samples work."""

"""Built-in scenarios, icons and styles, shipped with the program."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
SCENARIOS = RESOURCES / "scenarios"
ICONS = RESOURCES / "icons"
STYLES = RESOURCES / "styles"

"""Suite-wide settings."""

import pytest


@pytest.fixture(autouse=True)
def _wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rich wraps CLI output at the console width (80 without a terminal); tests read whole lines."""
    monkeypatch.setenv("COLUMNS", "400")

"""``qrdistill import``: teacher dumps into Path records (placeholder signature, filled below)."""

from __future__ import annotations

from pathlib import Path as FsPath

import typer


def import_command(
    config: FsPath = typer.Option(None, "--config", help="Import config (YAML): gold, split and sources."),
) -> None:
    """Import teacher outputs as Path records."""
    raise typer.Exit(code=2)

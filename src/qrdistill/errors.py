"""How the CLI reports an ordinary mistake: one line ``error: <file>:<line>: <field>: what to do``.

Every ``qrdistill`` command runs inside ``OneLineErrors`` (the Typer group of ``qrdistill.cli``):

- a bad command line or config (``UsageError``: ``ConfigError``, an impossible ``--out``) exits 2;
- bad input data (``ValueError`` such as ``RecordError``, a missing or unreadable file, non-UTF-8
  text) exits 1;
- anything else is a bug and keeps its traceback; ``qrdistill --debug`` shows the traceback of
  every error.

>>> one_line(FileNotFoundError(2, "No such file or directory", "q.jsonl"))
'q.jsonl: file not found; check the path'
"""

from __future__ import annotations

from typing import Any

import click
import typer
from typer.core import TyperGroup


class UsageError(ValueError):
    """A command line or config that cannot be used (exit 2); the message names the flag or field."""


class UnknownName(UsageError, KeyError):
    """An unknown task or method name (exit 2); a KeyError too, for callers that look names up."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


def one_line(exc: BaseException) -> str:
    """What an ordinary error says, on one line per problem."""
    if isinstance(exc, FileNotFoundError) and exc.filename:
        return f"{exc.filename}: file not found; check the path"
    if isinstance(exc, PermissionError) and exc.filename:
        return f"{exc.filename}: permission denied; choose a path you can read and write"
    if isinstance(exc, UnicodeDecodeError):
        return f"input is not UTF-8 text ({exc.reason} at byte {exc.start}); convert the file to UTF-8"
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc).strip()


def exit_code(exc: BaseException) -> int | None:
    """2 for a usage or config mistake, 1 for bad input data, None for anything else (a bug)."""
    if isinstance(exc, UsageError):
        return 2
    if isinstance(exc, (ValueError, OSError)):
        return 1
    return None


class OneLineErrors(TyperGroup):
    """A Typer group whose commands report ordinary mistakes as ``error:`` lines (see the module doc)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:
            code = exit_code(exc)
            if code is None or ctx.params.get("debug"):
                raise
            for line in one_line(exc).splitlines() or [type(exc).__name__]:
                typer.echo(f"error: {line}", err=True)
            raise typer.Exit(code) from None

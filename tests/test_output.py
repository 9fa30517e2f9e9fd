"""What the CLI prints: --quiet, --json, library chatter at debug level, tables that wrap."""

from __future__ import annotations

import json
import logging
import warnings

import pytest
import typer
from rich.console import Console
from rich.table import Table
from typer.testing import CliRunner

from qrdistill.output import Json, Quiet, keep_words, stage_output


def stage_app(fail: bool = False) -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def stage(quiet: Quiet = False, as_json: Json = False) -> None:
        with stage_output(quiet, as_json) as out:
            Console().print("progress of the stage")
            logging.getLogger("qrdistill.stage").warning("3 responses were truncated")
            if fail:
                typer.echo("error: the server is gone", err=True)
                raise typer.Exit(1)
            out.summary = {"paths": 12}

    return app


def test_json_mode_prints_only_the_summary_on_stdout():
    result = CliRunner().invoke(stage_app(), ["--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"paths": 12}
    assert "progress of the stage" not in result.output
    assert "3 responses were truncated" in result.stderr


def test_quiet_mode_shows_the_stage_output_only_when_it_fails():
    quiet = CliRunner().invoke(stage_app(), ["--quiet"])
    assert quiet.exit_code == 0 and quiet.stdout == ""
    failed = CliRunner().invoke(stage_app(fail=True), ["--quiet"])
    assert failed.exit_code == 1
    assert "progress of the stage" in failed.stderr and "error: the server is gone" in failed.stderr


def test_default_mode_prints_as_before():
    result = CliRunner().invoke(stage_app(), [])
    assert result.exit_code == 0 and "progress of the stage" in result.stdout


def test_library_warnings_go_to_the_debug_log_not_the_terminal(capsys, caplog):
    from transformers.utils import logging as hf_logging

    with caplog.at_level(logging.DEBUG, logger="qrdistill.libraries"), stage_output():
        hf_logging.get_logger("transformers.modeling_utils").warning("`foo` is deprecated")
        warnings.warn("old API", DeprecationWarning, stacklevel=1)
    assert "deprecated" not in capsys.readouterr().err
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert any("transformers.modeling_utils: `foo` is deprecated" in m for m in logged)
    assert any("py.warnings" in m and "old API" in m for m in logged)


@pytest.mark.parametrize("width", [60, 200])
def test_tables_wrap_names_instead_of_cutting_them(width):
    table = Table("method", "student", "task", "accuracy (%)", "95% CI")
    table.add_row("qr_distill", "smollm2-135m", "synth_arith1", "12.5", "[5.1, 26.8]")
    console = Console(width=width, record=True)
    console.print(keep_words(table, width))
    text = console.export_text()
    assert "…" not in text
    if width == 200:
        assert "synth_arith1" in text and "smollm2-135m" in text

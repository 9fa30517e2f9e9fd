"""Stages do not call back up into the orchestrator: only pipeline/ and the CLI import qrdistill.pipeline."""

import ast
from pathlib import Path

import qrdistill

PACKAGE = Path(qrdistill.__file__).parent


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):  # function-level imports too: a lazy import is still a dependency
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_no_stage_imports_the_pipeline():
    allowed = {PACKAGE / "cli.py", *(PACKAGE / "pipeline").rglob("*.py")}
    offenders = {}
    for file in sorted(PACKAGE.rglob("*.py")):
        if file in allowed:
            continue
        hits = sorted(n for n in _imports(ast.parse(file.read_text(encoding="utf-8"))) if n == "qrdistill.pipeline" or n.startswith("qrdistill.pipeline."))
        if hits:
            offenders[str(file.relative_to(PACKAGE))] = hits
    assert not offenders, f"modules outside pipeline/ and cli.py import the pipeline: {offenders}"


def test_the_scan_sees_lazy_imports():
    tree = ast.parse("def f():\n    from qrdistill.pipeline.stages import generate_stage\n")
    assert "qrdistill.pipeline.stages" in _imports(tree)

"""A regular (non-editable) install carries the demo configs: ``qrdistill demo`` works from any directory."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    target, source = tmp_path_factory.mktemp("site"), tmp_path_factory.mktemp("checkout")
    # a copy, since setuptools builds in the source tree (build/, *.egg-info)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    # offline: no dependencies, the build backend of this environment
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index", "--quiet",
                           "--target", str(target), str(source)], capture_output=True, text=True, env={**os.environ, "PIP_NO_INPUT": "1"})
    assert done.returncode == 0, done.stderr[-2000:]
    return target


def test_packaged_demo_configs_load_from_elsewhere(installed, tmp_path):
    script = ("import qrdistill, qrdistill.config as c\n"
              "print(qrdistill.__file__)\n"
              "for quick in (False, True):\n"
              "    cfg = c.demo_config(quick)\n"
              "    print(cfg.run_dir, sorted(cfg.methods))\n")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    first, demo, quick = done.stdout.splitlines()
    assert Path(first).is_relative_to(installed), "the installed copy, not the checkout, was imported"
    assert demo.startswith("runs/demo ") and quick.startswith("runs/demo-quick ")
    assert "qr_distill" in demo and "qr_distill" in quick

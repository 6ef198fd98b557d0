"""The pip requirements and the conda environment list the same packages; torch stays pinned."""
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).parent.parent


def _requirements() -> set[str]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    return {l.strip() for l in lines if l.strip() and not l.startswith("#")}


def test_torch_is_pinned_to_the_cpu_build_on_disk():
    assert "torch==2.13.0" in _requirements()
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"torch==2.13.0"' in pyproject


def test_environment_yml_matches_requirements():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip |= {d for d in dep["pip"] if not d.startswith("-e")}
        else:
            conda.add(re.split(r"[=<>]", dep)[0])
    conda -= {"python", "pip"}
    assert conda | pip == _requirements()


def test_gitignore_keeps_data_out():
    ignore = (ROOT / ".gitignore").read_text().splitlines()
    for entry in ("/data/", "/runs/", "reports/_site/"):
        assert entry in ignore

"""What a wheel ships: every file the package reads at run time (templates, migrations, static files, the demo
world, ``py.typed``) is matched by ``[tool.setuptools.package-data]``, so an installed questgraph finds it."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "questgraph"


def _package_data() -> list[Path]:
    """Every file the package-data globs match, as paths under src/."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    globs: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    matched: list[Path] = []
    for package, patterns in globs.items():
        folder = ROOT / "src" / Path(*package.split("."))
        for pattern in patterns:
            matched.extend(folder.glob(pattern))
    return matched


def test_every_data_file_is_package_data() -> None:
    shipped = set(_package_data())
    data_files = {path for path in PACKAGE.rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts}
    missing = sorted(str(path.relative_to(ROOT)) for path in data_files - shipped)
    assert not missing, f"not in [tool.setuptools.package-data], so not in a wheel: {missing}"
    assert PACKAGE / "py.typed" in shipped  # typed package (PEP 561)


def test_license_file_is_shipped() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert config["project"]["license"] == "Apache-2.0"
    assert config["project"]["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:200]

"""Every package of the bot is installed and shipped: pyproject's package list and the
Dockerfile's COPY lines name each top-level package folder (a new room that only one of
them names would start in the tests and fail in the image)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: folders with an __init__.py that are not part of the installed bot
NOT_SHIPPED = {"tests"}


def packages() -> set[str]:
    return {
        p.parent.name
        for p in ROOT.glob("*/__init__.py")
        if p.parent.name not in NOT_SHIPPED and not p.parent.name.startswith(".")
    }


def test_pyproject_installs_every_package() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    include = config["tool"]["setuptools"]["packages"]["find"]["include"]
    assert {name.rstrip("*") for name in include} >= packages()
    assert set(config["tool"]["importlinter"]["root_packages"]) >= packages()


def test_the_image_copies_every_package() -> None:
    copied = set(re.findall(r"^COPY (\w+) \./\1$", (ROOT / "Dockerfile").read_text(), re.M))
    assert copied >= packages(), packages() - copied

"""Where the bundled profiles and schemas live, installed or in a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # In a wheel the folders are shipped as generator/_data/<name>; in a source checkout
    # (and an editable install) they sit at the repository's top level.
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


def profiles_dir() -> Path:
    return _data_dir("profiles")


def schemas_dir() -> Path:
    return _data_dir("schemas")

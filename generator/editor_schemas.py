"""The schemas of difygen's own inputs (profiles, fleets) as files an editor can use.

YAML editors (the yaml-language-server behind VS Code's YAML extension, JetBrains IDEs,
Neovim) complete and check a file that names its schema on a first-line comment
`# yaml-language-server: $schema=<path or URL>`; a relative path is read from the YAML
file's directory. difygen writes copies of the schemas it validates with beside the files
that use them, so the editor checks exactly what this version of difygen accepts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from generator.errors import OutputError
from generator.resources import schemas_dir

PROFILE_SCHEMA = "profile.schema.json"
FLEET_SCHEMA = "fleet.schema.json"
EDITOR_SCHEMAS = (PROFILE_SCHEMA, FLEET_SCHEMA)


def modeline(schema_path: str) -> str:
    return f"# yaml-language-server: $schema={schema_path}"


@dataclass(frozen=True)
class SchemaCopies:
    written: list[Path]  # new or refreshed copies
    current: list[Path]  # already identical
    foreign: list[Path]  # a file of that name that is not a difygen schema: left alone


def _schema_id(data: bytes) -> str | None:
    try:
        loaded = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return None
    found = loaded.get("$id") if isinstance(loaded, dict) else None
    return found if isinstance(found, str) else None


def write_editor_schemas(directory: Path,
                         names: tuple[str, ...] = EDITOR_SCHEMAS) -> SchemaCopies:
    """Copy the named schemas into `directory`. A copy an older difygen wrote (same `$id`)
    is refreshed; a file of that name that is not ours is never overwritten."""
    copies = SchemaCopies([], [], [])
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for name in names:
            text = (schemas_dir() / name).read_bytes()
            target = directory / name
            if target.exists():
                existing = target.read_bytes()
                if existing == text:
                    copies.current.append(target)
                    continue
                if _schema_id(existing) != _schema_id(text):
                    copies.foreign.append(target)
                    continue
            target.write_bytes(text)
            copies.written.append(target)
    except OSError as exc:
        raise OutputError(f"{directory}: cannot write the editor schemas: "
                          f"{exc.strerror}") from exc
    return copies

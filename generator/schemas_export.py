"""The pinned strict schemas as standalone files for kubeconform.

kubeconform looks a schema up by a path template; with
`-schema-location '<dir>/{{ .ResourceKind }}{{ .KindSuffix }}.json'` it asks for
`deployment-apps-v1.json`, `service-v1.json`, `ingress-networking-v1.json`: the kind in
lower case, then the first segment of the API group and the version. That is the naming
kubernetes-validate already uses, so files keep their names. kubeconform resolves a
`$ref` to another file by URL, which for these schemas means the network; so every file is
made self-contained: the definitions it reaches are copied into its own `$defs` and its
references point there.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from generator import crd_schemas
from generator.errors import OutputError
from generator.k8s_schemas import DEFINITIONS, version_dir

_EXTERNAL = "/api/_definitions.json#/$defs/"
_LOCAL = "#/$defs/"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _localize(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _localize(v) for k, v in node.items()}
        ref = out.get("$ref")
        if isinstance(ref, str) and ref.startswith(_EXTERNAL):
            out["$ref"] = _LOCAL + ref[len(_EXTERNAL):]
        return out
    if isinstance(node, list):
        return [_localize(v) for v in node]
    return node


def standalone(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`schema` with every definition it reaches (transitively) inlined under `$defs`."""
    needed: set[str] = set()
    todo = list(_refs(schema))
    while todo:
        ref = todo.pop()
        for prefix in (_EXTERNAL, _LOCAL):
            if ref.startswith(prefix):
                name = ref[len(prefix):]
                break
        else:
            continue
        if name in needed or name not in definitions:
            continue
        needed.add(name)
        todo.extend(_refs(definitions[name]))
    out = {k: _localize(v) for k, v in schema.items() if k != "$id"}
    if needed:
        out["$defs"] = {name: _localize(definitions[name]) for name in sorted(needed)}
    return out


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def export_schemas(version: str, out_dir: str | Path) -> list[Path]:
    """Write one self-contained schema per Kubernetes kind of `version` into `out_dir`.

    The strict schemas of the custom resources difygen emits are written beside them.
    Returns the written paths. Each file is written to a temporary name and
    renamed, so a reader never sees half a file. Raises UsageError for an unknown version
    and OutputError when the directory cannot be written.
    """
    source = version_dir(version)
    definitions = json.loads((source / DEFINITIONS).read_text(encoding="utf-8"))["$defs"]
    target = Path(out_dir)
    written: list[Path] = []
    try:
        target.mkdir(parents=True, exist_ok=True)
        for path in sorted(source.glob("*.json")):
            if path.name in (DEFINITIONS, "all.json"):
                continue
            schema = json.loads(path.read_text(encoding="utf-8"))
            if "x-kubernetes-group-version-kind" not in schema:
                continue  # a building block (PodSpec, Affinity), not something one applies
            text = json.dumps(standalone(schema, definitions), indent=1, sort_keys=True)
            _write_atomic(target / path.name, text + "\n")
            written.append(target / path.name)
        # The custom resources difygen emits (KEDA, Prometheus Operator), under the same
        # kubeconform naming, so one -schema-location covers every object of an overlay.
        for name, (api_version, kind) in sorted(crd_schemas.exported_names().items()):
            crd = crd_schemas.schema_name(api_version, kind)
            assert crd is not None
            text = json.dumps(crd_schemas.load(crd), indent=1, sort_keys=True)
            _write_atomic(target / name, text + "\n")
            written.append(target / name)
    except OSError as exc:
        raise OutputError(f"{target}: cannot write schemas: {exc.strerror or exc}") from None
    return written

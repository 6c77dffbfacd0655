"""Reading YAML with positions, and writing it deterministically.

Profiles are read with ruamel's round-trip loader because it keeps the line and column of
every key and value: every error message points at the exact spot. The loaded tree is
turned into plain dicts and lists at once, with a position index beside it, so the rest of
the code never sees ruamel types. Output is written with PyYAML's safe dumper because it
quotes by YAML 1.1 rules, the ones kubectl and Helm read with ('on', 'yes', '1' stay strings).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from generator.errors import InputError, Location, Problem

MAX_PROFILE_BYTES = 1024 * 1024
MAX_DEPTH = 64
# A profile has a few hundred nodes; an alias bomb expands to billions. Counting nodes as
# aliases are expanded stops one long before it costs memory.
MAX_NODES = 100_000

KeyPath = tuple[str | int, ...]


def dotted(path: KeyPath) -> str:
    """`components.api.resources` style, with list indexes as `[0]`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


@dataclass
class Document:
    """Plain data from one YAML file plus the position of every key and value in it."""

    source: str
    data: Any
    value_pos: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    key_pos: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def location(self, path: KeyPath, *, at_key: bool = False) -> Location:
        """The position of `path`, or of its nearest ancestor that exists in the file."""
        index = self.key_pos if at_key else self.value_pos
        probe = tuple(path)
        while probe:
            if probe in index:
                line, col = index[probe]
                return Location(self.source, line, col, dotted(path))
            if probe in self.value_pos:
                line, col = self.value_pos[probe]
                return Location(self.source, line, col, dotted(path))
            probe = probe[:-1]
        line, col = self.value_pos.get((), (1, 1))
        return Location(self.source, line, col, dotted(path))


def read_text(path: Path, source: str, max_bytes: int = MAX_PROFILE_BYTES) -> str:
    """Read a file as UTF-8, refusing oversized files and reporting bad bytes by position."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(
                f"{source}: file is {size} bytes; the limit is {max_bytes} bytes "
                f"({max_bytes // 1024} KiB)"
            )
        raw = path.read_bytes()
    except IsADirectoryError as exc:
        raise InputError(f"{source}: is a directory, not a YAML file") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{source}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{source}: permission denied") from exc
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror}") from exc
    return decode(raw, source, max_bytes)


def decode(raw: bytes, source: str, max_bytes: int = MAX_PROFILE_BYTES) -> str:
    if len(raw) > max_bytes:
        raise InputError(
            f"{source}: input is {len(raw)} bytes; the limit is {max_bytes} bytes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        loc = Location(source, line, col)
        raise InputError(
            "not UTF-8",
            [Problem(loc, f"byte 0x{raw[exc.start]:02x} is not valid UTF-8; "
                          "YAML files must be UTF-8 encoded")],
        ) from exc
    return text.removeprefix("\ufeff")


def parse_document(text: str, source: str) -> Document:
    """Parse one YAML document into plain data with a position index."""
    loader = YAML(typ="rt")
    loader.allow_duplicate_keys = False
    try:
        docs = list(loader.load_all(text))
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise InputError(
            f"{source}: not valid YAML: nesting is too deep (more than {MAX_DEPTH} levels "
            "are allowed)"
        ) from None
    if len(docs) > 1:
        raise InputError(
            "several documents",
            [Problem(Location(source, 1, 1), f"holds {len(docs)} YAML documents; "
                                             "a profile is exactly one document")],
        )
    if not docs or docs[0] is None:
        raise InputError(
            "empty",
            [Problem(Location(source, 1, 1), "file is empty; a profile is a YAML mapping "
                                             "such as 'description: ...'")],
        )
    doc = Document(source, None)
    budget = [MAX_NODES]
    doc.data = _plain(docs[0], (), doc, budget, 0)
    return doc


def _syntax_error(exc: MarkedYAMLError, source: str) -> InputError:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or "invalid YAML"
    if "\t" in problem or "'\\t'" in problem:
        problem += " (YAML forbids tabs for indentation; use spaces)"
    if "duplicate key" in (exc.problem or "") or type(exc).__name__ == "DuplicateKeyError":
        problem = (exc.problem or "duplicate key").split("\n")[0]
        problem += "; each key may appear once in a mapping"
    context = f" ({exc.context})" if exc.context and exc.problem else ""
    if mark is None:
        return InputError(f"{source}: not valid YAML: {problem}")
    loc = Location(source, mark.line + 1, mark.column + 1)
    return InputError("not valid YAML", [Problem(loc, f"not valid YAML: {problem}{context}")])


def _plain(node: Any, path: KeyPath, doc: Document, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        loc = doc.location(path)
        raise InputError("too large", [Problem(
            loc, f"expands to more than {MAX_NODES} values (an alias bomb?); "
                 "profiles are small documents")])
    if depth > MAX_DEPTH:
        raise InputError("too deep", [Problem(
            doc.location(path), f"nesting is deeper than {MAX_DEPTH} levels")])
    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            k = key if isinstance(key, str) else _scalar_key(key, path, node, doc)
            kline, kcol, vline, vcol = node.lc.data[key]
            doc.key_pos[(*path, k)] = (kline + 1, kcol + 1)
            doc.value_pos[(*path, k)] = (vline + 1, vcol + 1)
            out[k] = _plain(node[key], (*path, k), doc, budget, depth + 1)
        return out
    if isinstance(node, CommentedSeq):
        items = []
        for i, item in enumerate(node):
            line, col = node.lc.data[i]
            doc.value_pos[(*path, i)] = (line + 1, col + 1)
            items.append(_plain(item, (*path, i), doc, budget, depth + 1))
        return items
    if path == () and not doc.value_pos:
        doc.value_pos[()] = (1, 1)
    return _scalar(node)


def _scalar_key(key: Any, path: KeyPath, node: CommentedMap, doc: Document) -> str:
    kline, kcol, _, _ = node.lc.data[key]
    raise InputError("bad key", [Problem(
        Location(doc.source, kline + 1, kcol + 1, dotted(path)),
        f"key {key!r} is a {type(_scalar(key)).__name__}; keys must be strings")])


def _scalar(value: Any) -> Any:
    # ruamel wraps scalars in str/int/float subclasses that carry formatting; unwrap them
    # so that equality, hashing and JSON Schema see plain Python values.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return str(value)


def iter_paths(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from iter_paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from iter_paths(v, (*path, i))


class _Dumper(yaml.SafeDumper):
    """Block style, kubectl-like lists, no aliases: identical data gives identical bytes."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def dump_yaml(data: Any) -> str:
    """One YAML document, deterministic: insertion order kept, LF, trailing newline."""
    text = yaml.dump(
        data, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=4096,
        allow_unicode=True, indent=2,
    )
    return text


def dump_all(documents: list[Any]) -> str:
    return "---\n".join(dump_yaml(d) for d in documents)

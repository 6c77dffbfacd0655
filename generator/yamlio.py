"""Reading YAML with positions, and writing it deterministically.

Profiles are read with ruamel's round-trip loader because it keeps the line and column of
every key and value: every error message points at the exact spot. The loaded tree is
turned into plain dicts and lists at once, with a position index beside it, so the rest of
the code never sees ruamel types. Output is written with PyYAML's safe dumper because it
quotes by YAML 1.1 rules, the ones kubectl and Helm read with ('on', 'yes', '1' stay strings).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from generator.errors import InputError, Location, Problem

# ruamel is imported where it reads (a profile the fast path leaves to it, an error to
# word): the manifest gate and a render of valid profiles never need it (about 20 ms of
# start-up).
if TYPE_CHECKING:
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

# The largest built-in profile is about 4 KiB. ruamel parses some 400 KiB a second, so this
# bound keeps every answer, even a refusal, well under a second.
MAX_PROFILE_BYTES = 128 * 1024
MAX_DEPTH = 64
# A profile has a few hundred nodes; an alias bomb expands to billions. Counting nodes as
# aliases are expanded stops one long before it costs memory; counting parser events first
# stops a long flat list before the (slow) composer builds it.
MAX_NODES = 100_000
MAX_PROFILE_NODES = 5_000

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
            raise _too_big(source, size, max_bytes)
        with open(path, "rb") as fh:
            # read one byte past the limit: a file that grows after stat() is still refused
            raw = fh.read(max_bytes + 1)
    except IsADirectoryError as exc:
        raise InputError(f"{source}: is a directory, not a YAML file") from exc
    except FileNotFoundError as exc:
        raise InputError(f"{source}: no such file") from exc
    except PermissionError as exc:
        raise InputError(f"{source}: permission denied") from exc
    except OSError as exc:
        raise InputError(f"{source}: cannot read: {exc.strerror}") from exc
    return decode(raw, source, max_bytes)


def _too_big(source: str, size: int, max_bytes: int) -> InputError:
    # Refused before parsing, so the position is the start of the file.
    return InputError("too large", [Problem(
        Location(source, 1, 1),
        f"file is {size} bytes or more; at most {max_bytes} bytes "
        f"({max_bytes // 1024} KiB) are allowed")])


def decode(raw: bytes, source: str, max_bytes: int = MAX_PROFILE_BYTES) -> str:
    if len(raw) > max_bytes:
        raise _too_big(source, len(raw), max_bytes)
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


def parse_document(text: str, source: str, max_nodes: int = MAX_NODES) -> Document:
    """Parse one YAML document into plain data with a position index."""
    fast = _plain_document(text, source, max_nodes)
    if fast is not None:
        return fast
    _prescan(text, source, max_nodes)
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    loader = YAML(typ="rt")
    loader.allow_duplicate_keys = False
    try:
        with warnings.catch_warnings():
            # ruamel warns (on stderr) about re-defined anchors, which YAML allows; a
            # warning is not an answer, and under `-W error` it would be an exception.
            warnings.simplefilter("ignore")
            docs = list(loader.load_all(text))
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, source) from None
    except YAMLError as exc:
        raise _reader_error(exc, text, source) from None
    except RecursionError:
        raise InputError(
            f"{source}: not valid YAML: nesting is too deep (more than {MAX_DEPTH} levels "
            "are allowed)"
        ) from None
    except ValueError as exc:
        # ruamel converts numbers with int()/float(): Python refuses integers of more than
        # 4300 digits (a guard against quadratic conversion).
        raise _number_error(exc, text, source) from None
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
    budget = [max_nodes, max_nodes]  # what is left, the limit
    doc.data = _plain(docs[0], (), doc, budget, 0)
    return doc


# ---------------------------------------------------------------------------- fast path

# libyaml's event parser (PyYAML's C extension) when PyYAML was built with it.
_C_LOADER: type[Any] | None = getattr(yaml, "CSafeLoader", None)
# Plain integers read the same by every YAML version, short of the digit limit.
_PLAIN_INT = re.compile(r"0|-?[1-9][0-9]{0,17}")
_STR_TAG = "tag:yaml.org,2002:str"
_PLAIN_TAGS_12: dict[str, str] = {}  # plain scalar -> the tag ruamel resolves it to


def _plain_tag(value: str) -> str:
    tag = _PLAIN_TAGS_12.get(value)
    if tag is None:
        by_first, anywhere = _resolvers_12()
        tag = _PLAIN_TAGS_12[value] = next(
            (t for t, regexp in (*by_first.get(value[:1], ()), *anywhere)
             if regexp.match(value)), _STR_TAG)
    return tag


@functools.cache
def _resolvers_12() -> tuple[dict[str, tuple[tuple[str, Any], ...]],
                             tuple[tuple[str, Any], ...]]:
    """ruamel's YAML 1.2 implicit resolvers (tag, pattern), by a scalar's first character,
    and those tried for every scalar: read once from one resolver and matched in ruamel's
    order. (A VersionedResolver per value cost a millisecond each on a fleet's names;
    sharing one is not safe: its resolve() extends its own tables in place.)"""
    from ruamel.yaml.resolver import VersionedResolver

    table = VersionedResolver(version=(1, 2)).versioned_resolver
    return ({first: tuple((str(t), r) for t, r in entries)
             for first, entries in table.items() if first is not None},
            tuple((str(t), r) for t, r in table.get(None, ())))


class _NotSimple(Exception):
    """A document the fast reader leaves to ruamel (which also words every error)."""


def _plain_document(text: str, source: str, max_nodes: int) -> Document | None:
    """The document ruamel would give, read from libyaml's events in one pass, or None.

    ruamel reads a file twice (a scan of its events for safety checks, then the
    round-trip load) and is slow at both: an 84 KiB fleet file took seconds. Most files
    are plain block YAML: ASCII, no tags, anchors, merge keys, directives or duplicate
    keys, and scalars that read the same in YAML 1.1 and 1.2 (strings, null, true/false,
    small integers). Those are read here, with every key's and value's line and column;
    any other file, and every file with an error, takes the ruamel path, which words the
    errors (a test holds both paths to the same data and positions).
    """
    if _C_LOADER is None or not text.isascii() or "\t" in text or "\r" in text:
        return None
    doc = Document(source, None)
    try:
        doc.data = _from_events(yaml.parse(text, Loader=_C_LOADER), doc, max_nodes)
    except (_NotSimple, yaml.YAMLError, RecursionError, ValueError):
        return None
    return doc


def _from_events(events: Iterator[Any], doc: Document, max_nodes: int) -> Any:
    key_pos, value_pos = doc.key_pos, doc.value_pos
    # one frame per open collection: [container, its path, the pending key or None]
    stack: list[list[Any]] = []
    root: Any = None
    nodes = 0
    documents = 0
    for event in events:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _NotSimple
            value: Any = event.value
            if event.style == "":
                tag = _plain_tag(value)
                if tag == _STR_TAG:
                    pass
                elif tag == "tag:yaml.org,2002:null" and value:
                    value = None
                elif tag == "tag:yaml.org,2002:bool":
                    value = value in ("true", "True", "TRUE")
                elif tag == "tag:yaml.org,2002:int" and _PLAIN_INT.fullmatch(value):
                    value = int(value)
                else:
                    raise _NotSimple
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                raise _NotSimple
            value = {} if kind is yaml.MappingStartEvent else []
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
            continue
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1 or event.version is not None or event.tags:
                raise _NotSimple
            continue
        elif kind is yaml.AliasEvent:
            raise _NotSimple
        else:
            continue
        nodes += 1
        if nodes > max_nodes:
            raise _NotSimple
        line, col = event.start_mark.line + 1, event.start_mark.column + 1
        here: KeyPath = ()
        if not stack:
            root = value
        else:
            frame = stack[-1]
            container, path = frame[0], frame[1]
            if type(container) is list:
                here = (*path, len(container))
                value_pos[here] = (line, col)
                container.append(value)
            elif frame[2] is None:  # a key
                if type(value) is not str or value in container or value == "<<":
                    raise _NotSimple
                here = (*path, value)
                key_pos[here] = (line, col)
                frame[2] = value
                continue
            else:
                here = (*path, frame[2])
                value_pos[here] = (line, col)
                container[frame[2]] = value
                frame[2] = None
        if type(value) is dict or type(value) is list:
            stack.append([value, here, None])
    if documents != 1 or root is None or not isinstance(root, dict | list):
        raise _NotSimple
    return root


def _prescan(text: str, source: str, max_nodes: int = MAX_NODES) -> None:
    """Check the parser's event stream before building anything from it.

    - Nesting deeper than MAX_DEPTH is refused at its first level too deep: the composer
      recurses once per level and ruamel's scanner slows down with every open flow
      collection, so '[' * 10000 would take seconds and then overflow the stack. Events
      come from a loop, so stopping early keeps the cost linear.
    - Syntax errors, duplicate keys and overlong numbers are reported with the key path
      the parser was in, which the loader alone does not know.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError
    from ruamel.yaml.events import (
        AliasEvent,
        CollectionEndEvent,
        CollectionStartEvent,
        MappingStartEvent,
        ScalarEvent,
    )

    frames: list[_Frame] = []
    nodes = 0
    try:
        for event in YAML(typ="rt").parse(text):
            if isinstance(event, ScalarEvent | AliasEvent | CollectionStartEvent):
                nodes += 1
                if nodes > max_nodes:
                    raise InputError("too many values", [Problem(
                        _mark_location(source, event.start_mark, frames),
                        f"found more than {max_nodes} values; at most {max_nodes} are "
                        "allowed")])
                if frames:
                    frames[-1].child(event, source, frames)
            if isinstance(event, ScalarEvent | CollectionStartEvent):
                _check_tag(event, source, frames)
            if isinstance(event, ScalarEvent):
                _check_scalar(event, source, frames)
            elif isinstance(event, CollectionStartEvent):
                if len(frames) >= MAX_DEPTH:
                    raise InputError("too deep", [Problem(
                        _mark_location(source, event.start_mark, frames),
                        f"nesting is deeper than {MAX_DEPTH} levels; at most "
                        f"{MAX_DEPTH} are allowed")])
                frames.append(_Frame(isinstance(event, MappingStartEvent)))
            elif isinstance(event, CollectionEndEvent) and frames:
                frames.pop()
    except MarkedYAMLError as exc:
        raise _syntax_error(exc, source, _frames_path(frames)) from None
    except (YAMLError, RecursionError, ValueError):
        return  # the full load reports it


@dataclass
class _Frame:
    """One open collection while scanning events: where we are inside it."""

    mapping: bool
    children: int = 0
    part: str | int = ""
    keys: dict[tuple[str, bool, str | None], int] = field(default_factory=dict)

    def child(self, event: Any, source: str, frames: list[_Frame]) -> None:
        from ruamel.yaml.events import ScalarEvent

        if not self.mapping:
            self.part = self.children
        elif self.children % 2 == 0:  # a key
            if isinstance(event, ScalarEvent):
                self.part = event.value
                # Two plain (or two quoted) keys with one spelling and tag resolve to the
                # same key; ruamel would refuse them too, but without the key path.
                ident = (event.value, event.style is None, event.tag)
                if ident in self.keys and event.value != "<<":
                    raise InputError("duplicate key", [Problem(
                        _mark_location(source, event.start_mark, frames),
                        f"found duplicate key {event.value!r} (first at line "
                        f"{self.keys[ident]}); each key may appear once in a mapping")])
                self.keys[ident] = event.start_mark.line + 1
            else:
                self.part = "?"
        self.children += 1


def _frames_path(frames: list[_Frame]) -> KeyPath:
    return tuple(f.part for f in frames)


def _mark_location(source: str, mark: Any, frames: list[_Frame]) -> Location:
    return Location(source, mark.line + 1, mark.column + 1, dotted(_frames_path(frames)))


# Python refuses int() of more than 4300 digits (a guard against quadratic conversion).
_MAX_DIGITS = 4300
_NUMBER_LIKE = re.compile(r"[-+]?(0[xo])?[0-9a-fA-F_.]+([eE][-+]?[0-9]+)?")


# Explicit tags that only restate what plain YAML already reads; any other tag (!!omap,
# !!set, !!binary, !!timestamp, a local !tag) builds a type no difygen input has.
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null",
                                                   "map", "seq")}


def _check_tag(event: Any, source: str, frames: list[_Frame]) -> None:
    tag = event.tag
    if tag is None or tag == "!" or tag in _PLAIN_TAGS:
        return
    shown = tag.replace("tag:yaml.org,2002:", "!!")
    hint = (" (write a plain mapping: difygen keeps the order of keys)"
            if shown in ("!!omap", "!!pairs") else "")
    raise InputError("unsupported tag", [Problem(
        _mark_location(source, event.start_mark, frames),
        f"found the tag {shown}; difygen reads plain YAML mappings, lists and scalars, "
        f"without tags{hint}")])


def _check_scalar(event: Any, source: str, frames: list[_Frame]) -> None:
    value = event.value
    if event.style is None and len(value) > _MAX_DIGITS and _NUMBER_LIKE.fullmatch(value):
        raise InputError("number too long", [Problem(
            _mark_location(source, event.start_mark, frames),
            f"found a number of {len(value)} digits; at most {_MAX_DIGITS} digits are "
            "allowed (quote it if it is text)")])


def _number_error(exc: ValueError, text: str, source: str) -> InputError:
    match = re.search(r"[0-9_]{4000,}", text)
    if match is None:
        return InputError(f"{source}: not valid YAML: {exc}")
    before = text[: match.start()]
    line = before.count("\n") + 1
    col = match.start() - (before.rfind("\n") + 1) + 1
    return InputError("number too long", [Problem(
        Location(source, line, col),
        f"found a number of {len(match.group())} digits; at most {_MAX_DIGITS} digits are "
        "allowed (and no profile value needs more than a few)")])


def _reader_error(exc: YAMLError, text: str, source: str) -> InputError:
    """A YAML error without a mark: the reader's refusal of a character (NUL, a control
    character) carries its offset, which becomes a line and column."""
    position = getattr(exc, "position", None)
    character = getattr(exc, "character", None)
    if not isinstance(position, int) or not 0 <= position <= len(text):
        return InputError(f"{source}: not valid YAML: {exc}")
    before = text[:position]
    line = before.count("\n") + 1
    col = position - (before.rfind("\n") + 1) + 1
    shown = f"U+{ord(character):04X}" if isinstance(character, str) else repr(character)
    if isinstance(character, int):
        shown = f"U+{character:04X}"
    return InputError("not valid YAML", [Problem(Location(source, line, col), (
        f"found the character {shown}; YAML allows no control characters (NUL, escape, ...) "
        "in a file: remove it, or write it escaped in a double-quoted string"))])


def _syntax_error(exc: MarkedYAMLError, source: str, path: KeyPath = ()) -> InputError:
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
    loc = Location(source, mark.line + 1, mark.column + 1, dotted(path) if path else "")
    return InputError("not valid YAML", [Problem(loc, f"not valid YAML: {problem}{context}")])


def _plain(node: Any, path: KeyPath, doc: Document, budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0:
        loc = doc.location(path)
        raise InputError("too large", [Problem(
            loc, f"found more values than the limit once aliases are expanded (an alias "
                 f"bomb?); at most {budget[1]} are allowed")])
    if depth > MAX_DEPTH:
        raise InputError("too deep", [Problem(
            doc.location(path), f"nesting is deeper than {MAX_DEPTH} levels")])
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    if isinstance(node, CommentedMap):
        out: dict[str, Any] = {}
        for key in node:
            k = key if isinstance(key, str) else _scalar_key(key, path, node, doc)
            kline, kcol, vline, vcol = _position_in(node, key, path, doc)
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


def _key_position(node: CommentedMap, key: Any) -> tuple[int, int, int, int] | None:
    """Where a key and its value are (0-based); a key a merge (`<<: *anchor`) brought in
    is where the merged mapping sets it. None when ruamel kept no position (a flow mapping
    written inline after `<<:`)."""
    from ruamel.yaml.comments import CommentedMap

    data = getattr(node.lc, "data", None) or {}
    if key in data:
        line_col: tuple[int, int, int, int] = tuple(data[key])
        return line_col
    for merged in getattr(node, "merge", ()):
        source = merged[1] if isinstance(merged, tuple) else merged
        if isinstance(source, CommentedMap) and key in source:
            return _key_position(source, key)
    return None


def _position_in(node: CommentedMap, key: Any, path: KeyPath,
                 doc: Document) -> tuple[int, int, int, int]:
    found = _key_position(node, key)
    if found is not None:
        return found
    # The mapping's own position, 0-based like ruamel's.
    line, col = doc.value_pos.get(path, (1, 1))
    return (line - 1, col - 1, line - 1, col - 1)


def _scalar_key(key: Any, path: KeyPath, node: CommentedMap, doc: Document) -> str:
    kline, kcol, _, _ = _position_in(node, key, path, doc)
    if key is None:
        found = "key null (an empty key or '~')"
    elif isinstance(key, tuple | list):
        found = "a list used as a key"
    elif isinstance(key, dict) or hasattr(key, "items"):
        found = "a mapping used as a key"
    else:
        kind = {bool: "a boolean", int: "an integer", float: "a number"}.get(
            type(_scalar(key)), f"a {type(key).__name__}")
        found = f"key {_scalar(key)!r} ({kind})"
    raise InputError("bad key", [Problem(
        Location(doc.source, kline + 1, kcol + 1, dotted(path)),
        f"found {found}; keys must be strings (quote it)")])


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


def copy_data(value: Any) -> Any:
    """A deep copy of plain YAML data (dicts, lists, scalars): far cheaper than
    copy.deepcopy, which the render and the in-memory overlay build call per object."""
    if isinstance(value, dict):
        return {k: copy_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) for v in value]
    return value


def iter_paths(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from iter_paths(v, (*path, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from iter_paths(v, (*path, i))


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style, kubectl-like lists, no aliases: identical data gives identical bytes."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _str_presenter(dumper: Any, data: str) -> Any:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_presenter)


def _pyyaml_dump(data: Any) -> str:
    text: str = yaml.dump(
        data, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=4096,
        allow_unicode=True, indent=2,
    )
    return text


def dump_yaml(data: Any) -> str:
    """One YAML document, deterministic: insertion order kept, LF, trailing newline.

    The bytes are PyYAML's (its safe dumper with the options above). Most of its time goes
    to representing the same few hundred scalars again and again, so the block structure
    (mappings, indentless lists, literal blocks) is written here and each distinct scalar
    is written once by PyYAML itself and remembered. Anything this writer does not know
    to be identical (other types, keys that are not plain, long or folded scalars, a
    literal block that keeps trailing newlines) is dumped by PyYAML whole.
    """
    if type(data) is dict or type(data) is list:
        out: list[str] = []
        try:
            if not data:
                return "{}\n" if type(data) is dict else "[]\n"
            _node(data, 0, "", out)
        except _NotPlain:
            return _pyyaml_dump(data)
        return "".join(out)
    return _pyyaml_dump(data)


class _NotPlain(Exception):
    """A value the block writer leaves to PyYAML."""


# A scalar is written the same wherever it stands in block context as long as no line
# comes near the line width (4096), where PyYAML would fold it.
_MAX_INLINE = 1024
# scalar -> its text on the line of its key or dash, or (literal header, body lines
# without indentation; "" for a blank line). Keyed by type too: True == 1.
_SCALARS: dict[tuple[type, Any], str | tuple[str, tuple[str, ...]]] = {}
# Strings, the most of them: a plain word (names that differ per environment) is its own
# text without asking PyYAML (see _WORD).
_STRINGS: dict[str, str | tuple[str, tuple[str, ...]]] = {}
_KEYS: dict[str, str] = {}


def _scalar_text(value: Any) -> str | tuple[str, tuple[str, ...]]:
    kind = type(value)
    if kind is str:
        text = _STRINGS.get(value)
        if text is None:
            text = _STRINGS[value] = value if _WORD.fullmatch(value) and _plain_str(
                value) else _scalar_from_pyyaml(value)
        return text
    if kind is float:
        return _scalar_from_pyyaml(value)  # 0.0 == -0.0 and nan != nan: not memoised
    if kind is not str and kind is not int and kind is not bool and value is not None:
        raise _NotPlain
    key = (kind, value)
    found = _SCALARS.get(key)
    if found is None:
        found = _SCALARS[key] = _scalar_from_pyyaml(value)
    return found


# Letters, digits and `_./-`, starting with a letter or digit (or `./` and one): no
# indicator, space or break, so the emitter writes such a string plain exactly when the
# resolver reads it back as a string (not `true`, `1.5`, `null`, `2024-01-01`...).
_WORD = re.compile(r"(\./)?[A-Za-z0-9][A-Za-z0-9_./-]{0,127}")


def _plain_str(value: str) -> bool:
    """Whether the dumper's resolver (PyYAML's, YAML 1.1) reads `value` as a string."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == "tag:yaml.org,2002:str"


_RESOLVER = yaml.resolver.Resolver()


def _scalar_from_pyyaml(value: Any) -> str | tuple[str, tuple[str, ...]]:
    text = _pyyaml_dump({"k": value})
    if not text.startswith("k: ") or any(c in text for c in _OTHER_BREAKS):
        raise _NotPlain  # breaks other than LF continue a line at its indentation
    body = text[3:-1]
    if "\n" not in body:
        if len(body) > _MAX_INLINE:
            raise _NotPlain
        return body
    header, *lines = body.split("\n")
    if not header.startswith("|") or "+" in header or any(
            line and not line.startswith("  ") for line in lines):
        raise _NotPlain
    return header, tuple(line[2:] for line in lines)


_OTHER_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


def _key_text(key: Any) -> str:
    if type(key) is not str:
        raise _NotPlain
    found = _KEYS.get(key)
    if found is None:
        text = _pyyaml_dump({key: 0})
        found = text[:-4]
        if (not text.endswith(": 0\n") or "\n" in found or found.startswith("?")
                or len(found) > _MAX_INLINE or any(c in found for c in _OTHER_BREAKS)):
            raise _NotPlain
        _KEYS[key] = found
    return found


def _node(value: Any, col: int, lead: str, out: list[str]) -> None:
    """A non-empty mapping or list whose first line starts with `lead` (its indentation,
    or the dashes of the list items it is in); further lines start at column `col`."""
    pad = " " * col
    prefix = lead
    if type(value) is dict:
        keys = _KEYS
        for key, item in value.items():
            text = keys.get(key) if type(key) is str else None
            _value(item, col, col + 2,
                   prefix + (text if text is not None else _key_text(key)) + ":", out, True)
            prefix = pad
    else:
        for item in value:
            _value(item, col, col + 2, prefix + "-", out, False)
            prefix = pad


def _value(item: Any, col: int, inner: int, line: str, out: list[str],
           in_mapping: bool) -> None:
    kind = type(item)
    if kind is dict or kind is list:
        if not item:
            out.append(line + (" {}\n" if kind is dict else " []\n"))
        elif kind is list and in_mapping:
            out.append(line + "\n")  # a list in a mapping is not indented
            _node(item, col, " " * col, out)
        elif kind is dict and in_mapping:
            out.append(line + "\n")
            _node(item, inner, " " * inner, out)
        else:
            _node(item, inner, line + " ", out)  # starts on the dash's line
        return
    text = _scalar_text(item)
    if isinstance(text, str):
        out.append(line + " " + text + "\n")
        return
    header, body = text
    out.append(line + " " + header + "\n")
    pad = " " * inner
    out.extend(pad + part + "\n" if part else "\n" for part in body)


def dump_all(documents: list[Any]) -> str:
    return "---\n".join(dump_yaml(d) for d in documents)

"""The fast manifest path (rapidyaml + json, positions from lines) answers exactly what the
slow path (libyaml composer + builder) answers: the same data, the same positions."""

from __future__ import annotations

import os
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

import generator.manifest_fast as fast_reader
import generator.manifest_loader as manifests
from generator.forking import Dealer
from generator.positions import Lines, locate_lines
from generator.yamlio import iter_paths
from tests.conftest import REPO

CORPUS = sorted([*(REPO / "output" / "kustomize").rglob("*.yaml"),
                 *(REPO / "tests" / "cases" / "manifests").rglob("*.yaml")])
TRICKY = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: yes\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 'yes'\n  b: \"on\"\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 0644\n  b: 1e3\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 1_000\n  b: .5\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: ~\n  b: 1:30\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: a}\nb: *m\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: !!map {a: b}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: |\n    x: 1\n  b: >\n"
    "    folded\n    text\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: \"\\x41\\u00e9\"\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  t: 2024-01-01\n  n: +1\n",
    "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
    "  metadata: {name: a}\n",
    "# c\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n"
    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
]
# Plain scalars YAML 1.1 types, each in a place the token prefilter must still find: in
# flow collections without spaces, before a comment, after a JSON-style key, as a
# sexagesimal (which holds a colon), with an exponent.
HIDDEN = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: [yes]}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: [x,off]}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: yes  # c\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {\"a\": on}\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 1:30\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: 2.5e3\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: [0x1F]\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: x\n  b: !!str 1\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: &x b, c: *x}\n",
    # Reserved indicators: YAML refuses a plain scalar starting with one; rapidyaml
    # read it as text, and a manifest kubectl refuses passed.
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: @x\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: `x\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {a: [x, @y]}\n",
    "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec:\n  containers:\n  - @x\n",
]
# The same words as prose, quoted or inside longer scalars: the fast path keeps them.
INNOCENT = [
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: say no more\n"
    "  b: 'on'\n  c: \"1:30\"\n  d: |\n    yes: no\n    x = 1\n",
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n  a: x@y\n"
    "  b: '@x'\n  c: \"`x\"\n  d: a`b\n",
]


@pytest.mark.parametrize("text", TRICKY + HIDDEN + INNOCENT +
                         [p.read_text(encoding="utf-8") for p in CORPUS],
                         ids=[f"tricky{i}" for i in range(len(TRICKY))] +
                             [f"hidden{i}" for i in range(len(HIDDEN))] +
                             [f"innocent{i}" for i in range(len(INNOCENT))] +
                             [str(p.relative_to(REPO)) for p in CORPUS])
def test_fast_and_slow_paths_agree(text: str) -> None:
    slow_problems: list[manifests.Problem] = []
    slow = manifests._load_slow(text, "x.yaml", slow_problems)
    fast = manifests._load_fast(text, "x.yaml")
    if fast is None:
        return  # the slow path answers, so the answer is the slow path's
    assert not slow_problems
    assert [m.obj for m in fast] == [m.obj for m in slow]
    assert [(m.line, m.col) for m in fast] == [(m.line, m.col) for m in slow]
    for quick, exact in zip(fast, slow, strict=True):
        paths = [p for p, _ in iter_paths(quick.obj)]
        for path in [*paths, *((*p, "missing") for p in paths), ("missing",), ()]:
            assert quick.find(path) == exact.find(path), path


def test_risky_scalars_take_the_slow_path() -> None:
    for text in TRICKY[:7]:
        if "'yes'" in text:
            assert manifests._load_fast(text, "x.yaml") is not None
        else:
            assert manifests._load_fast(text, "x.yaml") is None, text


@pytest.mark.parametrize("plain", ["enabled: no", "mode: on", "mode: 0755", "big: 1e3"])
def test_a_typed_scalar_next_to_prose_in_its_piece_still_takes_the_slow_path(
        plain: str) -> None:
    """The piece's verdict (from every token, comments included) is narrowed to what its
    JSON holds: prose saying `no` and `on` narrows nothing away from a document that
    holds the scalar plain, however far from the prose it is in the piece."""
    prose = "# say no more, on 0755 and 1e3 words\n"
    quoted = plain.replace(": ", ": '") + "'"
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n{i}\ndata:\n  {line}\n"
    innocent = "---\n".join(doc.format(i=i, line="k: v") for i in range(40))
    fine = prose + innocent + "---\n" + doc.format(i=99, line=quoted)
    assert manifests._load_fast(fine, "x.yaml") is not None
    risky = f"{prose}{innocent}---\n{doc.format(i=99, line=plain)}---\n{innocent}"
    assert manifests._load_fast(risky, "x.yaml") is None, plain


@pytest.mark.parametrize("edited", [False, True])
@pytest.mark.parametrize("jobs", [1, 2])
def test_the_precheck_sees_every_document_before_it_is_parsed(
        jobs: int, edited: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The nesting check runs in the process that reads a piece, on each run of the
    piece's documents to be parsed, before they are parsed: every parsed document is
    checked once, copies of documents parsed before are not parsed or checked again,
    and a run it fails sends the whole text to the slow path (which words the problem).
    """
    half = _big_text(20, edited=edited)
    # A document in the middle that is in no other: parsed whichever process reads it.
    unique = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: only-one\n"
    text = f"{half}---\n{unique}---\n{_big_text(20, edited=edited, first=20)}"
    bounds = fast_reader.document_bounds(text)
    pieces = fast_reader._pieces(text)
    assert len(pieces) > 4
    # Both processes append their records to one file, in the order they happen.
    log = os.open(tmp_path / "log", os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def record(run: list[tuple[int, int]]) -> bool:
        first = bounds.index(run[0])
        assert run == bounds[first:first + len(run)]  # consecutive documents
        os.write(log, b"check %d %d %d\n" % (os.getpid(), first, len(run)))
        return True

    real_parse = fast_reader._parse_stream

    def parse(chunks: list[str], *args: object) -> object:
        for chunk in chunks:
            os.write(log, b"parse %d %d\n" % (os.getpid(), hash(chunk)))
        return real_parse(chunks, *args)  # type: ignore[arg-type]

    # The documents with a given text (a child's hashes are this process's: forked).
    with_text: dict[int, list[int]] = {}
    for start, end in bounds:
        with_text.setdefault(hash(text[start:end]), []).append(start)

    monkeypatch.setattr(fast_reader, "_parse_stream", parse)
    assert fast_reader.read(text, jobs, record) is not None
    os.close(log)
    checked: dict[int, set[int]] = {}  # by process, the starts of the documents checked
    runs: list[tuple[int, int]] = []
    parsed = 0
    for entry in (tmp_path / "log").read_text().splitlines():
        what, pid, *numbers = entry.split()
        if what == "check":
            first, count = int(numbers[0]), int(numbers[1])
            runs.append((first, count))
            checked.setdefault(int(pid), set()).update(
                bounds[i][0] for i in range(first, first + count))
        else:
            parsed += 1
            # Checked before, by the process that parses it.
            assert checked.get(int(pid), set()) & set(with_text[int(numbers[0])])
    runs.sort()
    # Runs never overlap, and together they hold every document parsed.
    assert all(a + n <= b for (a, n), (b, _) in pairwise(runs))
    assert sum(n for _, n in runs) == parsed
    if edited:
        # Parsed: every document but the verbatim copies of one in an earlier piece (read
        # by the same process: with two, each may parse a text once).
        first_piece: dict[str, int] = {}
        new = 0
        for index, piece in enumerate(pieces):
            for start, end in fast_reader.document_bounds(text, piece.start, piece.end):
                new += first_piece.setdefault(text[start:end], index) == index
        assert parsed == new if jobs == 1 else new <= parsed <= len(bounds)
        assert new > len(bounds) * 0.8
    else:
        assert parsed < len(bounds) // 10  # the copies in other namespaces are not
    failing = bounds[half.count("\n---\n") + 1]
    assert text[failing[0]:failing[1]] == unique
    monkeypatch.setattr(fast_reader, "_parse_stream", real_parse)
    assert fast_reader.read(text, jobs, lambda run: failing not in run) is None


def test_the_nesting_check_of_a_run_of_documents_places_what_it_finds() -> None:
    """Given a run of a text's documents, the nesting check looks at those alone and
    places a deep one at its line in the whole text."""
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    deep = plain + "data: {x: " + "[" * 250 + "]" * 250 + "}\n"
    text = "---\n".join([plain] * 10 + [deep] + [plain] * 10)
    bounds = fast_reader.document_bounds(text)
    assert manifests._too_deep(text, bounds[:10]) is None
    assert manifests._too_deep(text, bounds[11:]) is None
    assert manifests._too_deep(text, bounds[8:12]) == manifests._too_deep(text) == \
        (10 * 4 + 4, manifests._too_deep(text)[1])


@pytest.mark.parametrize("text", HIDDEN)
def test_hidden_yaml11_constructs_take_the_slow_path(text: str) -> None:
    """Each of these reads differently in YAML 1.1, or uses a construct only the slow
    path reads: the prefilter must send it there, even next to innocent documents."""
    innocent = INNOCENT[0]
    assert manifests._load_fast(innocent, "x.yaml") is not None
    assert manifests._load_fast(f"{innocent}---\n{text}---\n{innocent}", "x.yaml") is None


def _big_text(copies: int, tail: str = "", edited: bool = False, first: int = 0) -> str:
    """The rendered overlays' objects, each copy in its own namespace (a first line under
    `metadata:`, as a build would write it), past the size at which reading forks.
    Copies of a document in another namespace are read from the first one's data;
    `edited` copies also differ in a comment line, so that every document is parsed."""
    docs = [p.read_text(encoding="utf-8")
            for p in sorted((REPO / "output" / "kustomize").rglob("*.yaml"))
            if p.name != "kustomization.yaml"]
    body = "\n---\n".join(d.strip("\n") for d in docs if "kind:" in d)
    copies_text = [body.replace("\nmetadata:\n", f"\nmetadata:\n  namespace: dify-{i:03d}\n")
                   for i in range(first, first + copies)]
    if edited:
        copies_text = [f"# copy c{i}\n" + copy.replace("\n---\n", f"\n---\n# copy c{i}\n")
                       for i, copy in enumerate(copies_text, first)]
    return "\n---\n".join(copies_text) + "\n" + tail


@pytest.mark.parametrize("edited", [False, True])
def test_reading_in_several_processes_answers_what_one_does(
        monkeypatch: pytest.MonkeyPatch, edited: bool) -> None:
    text = _big_text(40, edited=edited)
    assert len(text) > fast_reader.PARALLEL_MIN_CHARS
    started: list[int] = []
    real_start = fast_reader._Child.start

    def counted(text: str, pieces: list[fast_reader._Piece], dealer: Dealer,
                precheck: fast_reader.Precheck | None) -> fast_reader._Child:
        started.append(len(pieces))
        return real_start(text, pieces, dealer, precheck)

    monkeypatch.setattr(fast_reader._Child, "start", staticmethod(counted))
    alone = fast_reader.read(text, 1)
    assert not started
    together = fast_reader.read(text, 3)
    assert len(started) == 2  # two children beside this process
    assert alone is not None and together is not None and len(alone) > 1000
    # The same data, positions and document texts, in order (a verbatim copy may point
    # at another copy's text: the same characters).
    def seen(docs: list[fast_reader.Document]) -> list[tuple[object, ...]]:
        return [(d.data, d.line, d.col, d.line_offset, text[d.start:d.end]) for d in docs]

    assert seen(together) == seen(alone)
    # A copy in another namespace names a parsed document (in the process that read it)
    # whose data is its own but for the namespace.
    for docs in (alone, together):
        at = {d.start: d for d in docs}
        copies = [d for d in docs if d.model >= 0]
        assert len(copies) > len(docs) // 2 if not edited else not copies
        for d in copies:
            model = at[d.model]
            assert model.model == -1 and model.data["metadata"]["namespace"] != \
                d.data["metadata"]["namespace"]
            assert {**model.data, "metadata": {**model.data["metadata"], "namespace":
                                               d.data["metadata"]["namespace"]}} == d.data
    loaded = manifests._load_fast(text, "x.yaml", 3)
    assert loaded is not None
    assert [(m.obj, m.line, m.col) for m in loaded] == \
        [(d.data, d.line, d.col) for d in alone]


@pytest.mark.parametrize("edited", [False, True])
def test_every_process_reads_pieces_and_the_parent_loads_them_as_they_come(
        monkeypatch: pytest.MonkeyPatch, edited: bool) -> None:
    """Pieces are dealt as the processes ask: with small pieces the child reads many,
    and the parent loads some of them before the last piece is read (not all at the
    end), and the answer is still the one process's."""
    text = _big_text(40, edited=edited)
    monkeypatch.setattr(fast_reader, "PIECE_CHARS", 16 * 1024)
    loads: list[int] = []
    real_load = fast_reader._Child.load

    def load(self: fast_reader._Child, by_piece: dict[int, list[object]],
             build: Callable[[fast_reader.Document], object], lines: list[int]) -> None:
        before = len(by_piece)
        real_load(self, by_piece, build, lines)
        loads.append(len(by_piece) - before)

    monkeypatch.setattr(fast_reader._Child, "load", load)
    alone = fast_reader.read(text, 1)
    together = fast_reader.read(text, 2)
    assert alone is not None and together is not None
    # (a verbatim copy points at the first copy its own process read: the same text)
    assert [(d.data, d.line, d.col, text[d.start:d.end]) for d in together] == \
        [(d.data, d.line, d.col, text[d.start:d.end]) for d in alone]
    pieces = len(fast_reader._pieces(text))
    from_child = sum(loads)
    assert 0 < from_child < pieces
    assert sum(loads[:-1]) > 0  # some before the final load after the child exited


def test_a_document_for_the_slow_path_in_a_childs_share_sends_the_file_there() -> None:
    risky = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z}\ndata:\n  a: 0644\n"
    text = _big_text(40, "---\n" + risky)
    assert fast_reader.read(text, 2) is None
    problems: list[manifests.Problem] = []
    loaded = manifests._load(text, "x.yaml", problems, 2)
    assert not problems
    assert loaded[-1].obj["data"] == {"a": 420}  # YAML 1.1's octal, as Kubernetes reads


def test_line_locator_is_never_wrong_on_the_rendered_tree() -> None:
    checked = 0
    for path in (REPO / "output" / "kustomize").rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        for doc in manifests._load_fast(text, str(path)) or []:
            assert doc.text is not None
            node = yaml.compose(doc.text, Loader=manifests._PositionLoader)
            for key_path, _ in iter_paths(doc.obj):
                got = locate_lines(doc.text, key_path, doc.line_offset)
                if got is not None:
                    checked += 1
                    assert got == manifests._walk(node, key_path, doc.line_offset)
    assert checked > 1000


def test_one_documents_lines_answer_every_path_as_fresh_lines_do() -> None:
    """A document's Lines remember the windows earlier locates listed (findings on one
    document share them): asked in any order, and for absent keys and items too, each
    answer is the one a fresh Lines gives."""
    checked = 0
    for path in CORPUS:
        text = path.read_text(encoding="utf-8")
        for doc in manifests._load_fast(text, str(path)) or []:
            if doc.text is None:
                continue
            asked = [key_path for key_path, _ in iter_paths(doc.obj)]
            asked += [(*key_path, "absent") for key_path in asked]
            asked += [(*key_path, 99) for key_path in asked[:len(asked) // 2]]
            for order in (asked, asked[::-1]):
                shared = Lines(doc.text)
                for key_path in order:
                    assert locate_lines(shared, key_path, 0) == locate_lines(
                        doc.text, key_path, 0), key_path
                    checked += 1
    assert checked > 1000


def test_duplicate_keys_are_still_refused(tmp_path: Path) -> None:
    target = tmp_path / "dup.yaml"
    target.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  name: b\n",
                      encoding="utf-8")
    with pytest.raises(manifests.InputError) as info:
        manifests.load_paths([target])
    assert "duplicate key 'name'" in info.value.problems[0].message
    assert info.value.problems[0].location.line == 5


def test_a_duplicate_key_among_many_documents_of_one_piece_is_found() -> None:
    """A piece's documents are checked for lost keys together (one count over the
    piece): one duplicate among many still sends the text to the slow path."""
    docs = [f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n" for i in range(50)]
    docs[25] += "data:\n  a: '1'\n  a: '2'\n"
    text = "---\n".join(docs)
    assert len(fast_reader._pieces(text)) == 1
    assert fast_reader.read(text) is None
    docs[25] = docs[25].replace("  a: '2'", "  b: '2'")
    assert fast_reader.read("---\n".join(docs)) is not None


def test_quotes_and_colons_inside_strings_are_not_taken_for_keys() -> None:
    """The duplicate-key count reads `":` in both JSON texts: a string holding a quote
    before a colon counts the same in both, so it neither hides nor fakes a lost key."""
    doc = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: q\ndata:\n"
           "  a: 'x\": y'\n  b: '\": \":'\n")
    read = fast_reader.read(doc)
    assert read is not None and read[0].data["data"] == {"a": 'x": y', "b": '": ":'}
    assert fast_reader.read(doc + "  a: 'z'\n") is None


def test_repeated_documents_keep_their_own_positions() -> None:
    """A document repeated verbatim is parsed once and its positions are shared by text:
    every copy must still be placed at its own lines, exactly as the composer places it,
    and get data of its own (never the same dict)."""
    doc = (REPO / "tests" / "cases" / "manifests" / "negative" / "pss-restricted.yaml"
           ).read_text(encoding="utf-8").split("\n---\n")[0]
    text = "\n---\n".join([doc, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
                           doc, doc])
    slow_problems: list[manifests.Problem] = []
    slow = manifests._load_slow(text, "x.yaml", slow_problems)
    fast = manifests._load_fast(text, "x.yaml")
    assert fast is not None and not slow_problems
    assert len({id(m.obj) for m in fast}) == len(fast) == 4
    assert [m.obj for m in fast] == [m.obj for m in slow]
    copies = [m for m in fast if m.kind != "ConfigMap"]
    assert len({m.line for m in copies}) == 3
    for quick, exact in zip(fast, slow, strict=True):
        for path, _ in iter_paths(quick.obj):
            assert quick.find(path) == exact.find(path), path
    # A finding's place moves with its copy: same path, three different lines.
    path = ("spec",)
    assert len({m.locate(path) for m in copies}) == 3


# Documents with a `  namespace: {ns}` line, whether the text before that line proves
# it is metadata.namespace, and whether copies in other namespaces are read from the
# first document's data. The lookalikes hold the line inside a quoted scalar, a flow
# collection or a block scalar, or under another key, though each one's data holds the
# namespace its line says when {ns} is `dify`; the last is continued on the next line.
NAMESPACED = [
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: {ns}\n"
     "data:\n  k: v\n", True, True),
    ("# c\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n"
     "    why: 'it''s: no'\n  # a comment: \"\n  labels:\n    a: b\n\n  namespace: {ns}\n"
     "data:\n  k: |\n    namespace: x\n", True, True),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \"a\n  namespace: {ns}\n  \"\n"
     "  namespace: dify\n", False, False),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: 'a\n  namespace: {ns}\n  '\n"
     "  namespace: dify\n", False, False),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  finalizers: [a,\n  namespace: {ns}\n"
     "  ]\n  name: a\n  namespace: dify\n", False, False),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: dify}}\ndata:\n"
     "  x: \"\nmetadata:\n  namespace: {ns}\"\n", False, False),
    ("apiVersion: v1\nkind: ConfigMap\ndata: |\n  namespace: {ns}\nmetadata:\n  name: a\n"
     "  namespace: dify\n", False, False),
    ("apiVersion: v1\nkind: ConfigMap\nspec:\n  namespace: {ns}\nmetadata:\n  name: a\n"
     "  namespace: dify\n", False, False),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: {ns}\n    more\n",
     True, False),
]
# The first namespace is the model's; the others include words YAML reads as a boolean
# or null, and values that are not namespaces.
NAMESPACES = ["dify", "x", "dify-b", "no", "true", "null", "y", "0x1", "a-", "A", "b c",
              "dify"]


@pytest.mark.parametrize(("template", "proven", "copied"), NAMESPACED)
def test_a_copy_in_another_namespace_reads_as_the_slow_path_reads_it(
        monkeypatch: pytest.MonkeyPatch, template: str, proven: bool, copied: bool) -> None:
    """A document that differs from one parsed before only in its metadata.namespace is
    that document's data with the namespace, at its own place; anything that merely
    looks like it is parsed, and every answer is the slow path's."""
    model = template.format(ns="dify")
    assert fast_reader._under_metadata(model[:model.index("\n  namespace: ")]) is proven
    monkeypatch.setattr(fast_reader, "PIECE_CHARS", 1)  # a piece per document
    parsed: list[str] = []
    real_parse = fast_reader._parse_stream

    def parse(chunks: list[str], *args: object) -> object:
        parsed.extend(chunks)
        return real_parse(chunks, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(fast_reader, "_parse_stream", parse)
    for names in (NAMESPACES, [n for n in NAMESPACES if n in ("dify", "x", "dify-b")]):
        parsed.clear()
        text = "---\n".join(template.format(ns=n) for n in names)
        slow_problems: list[manifests.Problem] = []
        slow = manifests._load_slow(text, "x.yaml", slow_problems)
        assert not slow_problems
        problems: list[manifests.Problem] = []
        loaded = manifests._load(text, "x.yaml", problems)
        assert not problems
        assert [(m.obj, m.line, m.col) for m in loaded] == \
            [(m.obj, m.line, m.col) for m in slow]
        for quick, exact, name in zip(loaded, slow, names, strict=True):
            # A copy's findings read its own text (the slow path keeps nodes instead).
            assert quick.text in (None, template.format(ns=name))
            for path in [("metadata", "namespace"), ("metadata", "name"), ("kind",)]:
                assert quick.find(path) == exact.find(path)
        if len(names) == 3:  # (with the others, the slow path may read the text)
            assert len(parsed) == (1 if copied else 3), parsed


@pytest.mark.parametrize("word", ["no", "on", "true", "null", "y", "Off", "0x1F", "1e3"])
def test_a_namespace_yaml_types_is_not_read_as_a_copy(
        monkeypatch: pytest.MonkeyPatch, word: str) -> None:
    """`namespace: no` is a boolean to YAML 1.1, `null` none: a copy with such a value
    is parsed (and the text read as the slow path reads it), never given the text."""
    monkeypatch.setattr(fast_reader, "PIECE_CHARS", 1)
    text = "---\n".join(NAMESPACED[0][0].format(ns=n) for n in ("dify", "x", word))
    problems: list[manifests.Problem] = []
    loaded = manifests._load(text, "x.yaml", problems)
    slow = manifests._load_slow(text, "x.yaml", [])
    assert not problems
    assert [m.obj for m in loaded] == [m.obj for m in slow]
    assert slow[2].obj["metadata"]["namespace"] == yaml.safe_load(f"v: {word}")["v"]


def test_a_copy_in_another_namespace_is_data_of_its_own() -> None:
    text = "---\n".join(NAMESPACED[0][0].format(ns=n) for n in ("a", "b", "c"))
    read = fast_reader.read(text.replace("\n---\n", "\n---\n" + "#\n" * 40000))
    assert read is not None
    assert [d.data["metadata"]["namespace"] for d in read] == ["a", "b", "c"]
    read[1].data["data"]["k"] = "changed"
    assert read[2].data["data"]["k"] == read[0].data["data"]["k"] == "v"


EDGE_TEXTS = [
    "", "---\n", "---", "a: 1\n---", "---\n---\n---\na: 1\n", "a: 1\n---\n---  \n\tb: 2\n",
    "---\na: 1\n---\n", "a: '\n---x'\n---\nb: 1\n---\t\n\n", "a: 1\n...\n---\nb: 2",
]


@pytest.mark.parametrize("piece_chars", [1, 2, 5, 4096, 128 * 1024, 10 ** 9])
def test_pieces_cover_every_document_once_in_order(monkeypatch: pytest.MonkeyPatch,
                                                   piece_chars: int) -> None:
    """A piece's own document bounds are the whole text's for those documents, with
    their line counts; each piece is about PIECE_CHARS long; the dealer can deal them."""
    monkeypatch.setattr(fast_reader, "PIECE_CHARS", piece_chars)
    for text in [_big_text(3), *EDGE_TEXTS]:
        bounds = fast_reader.document_bounds(text)
        pieces = fast_reader._pieces(text)
        runs = [fast_reader.document_bounds(text, p.start, p.end) for p in pieces]
        assert [b for run in runs for b in run] == bounds, text[:50]
        size = max(piece_chars, len(text) // fast_reader._MAX_PIECES + 1)
        lines = fast_reader._lines_before(text, pieces)
        for piece, run, line in zip(pieces, runs, lines, strict=True):
            assert line == text.count("\n", 0, piece.start)
            # Past the size only by its last document; short only as the last piece.
            assert len(run) == 1 or run[-2][1] - 1 < piece.start + size
            assert piece.end - piece.start > size or piece is pieces[-1]
        # However small the pieces asked for, the dealer can deal them all.
        assert len(pieces) <= Dealer.LIMIT
        if piece_chars == 1 and len(text) > 10 ** 5:
            assert len(pieces) > len(bounds) // 3
        if piece_chars == 10 ** 9:
            assert len(pieces) == 1


def test_the_dealer_refuses_more_than_a_pipe_surely_holds() -> None:
    """Every number is written before anyone reads: past one page of tokens the write
    could block for good (a user past the pipe quota gets one-page pipes)."""
    dealer = Dealer(Dealer.LIMIT)
    assert [dealer.take() for _ in range(3)] == [0, 1, 2]
    dealer.drain()
    assert dealer.take() is None
    dealer.close()
    with pytest.raises(ValueError):
        Dealer(Dealer.LIMIT + 1)


def test_a_piece_with_a_document_end_marker_goes_to_the_slow_path() -> None:
    """`...` ends a document: joined into one stream, one text could hold two documents
    and another none while the count still matched, so the fast path declines."""
    doc = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n"
    text = f"{doc}...\n---\n{doc}"
    assert fast_reader.read(text) is None
    problems: list[manifests.Problem] = []
    assert len(manifests._load(text, "x.yaml", problems)) == 2 and not problems


@pytest.mark.parametrize("prefix, text_kept", [("", False), ("\ufeff", False),
                                               ("# é\n", True)])
def test_positions_read_back_from_the_file(tmp_path: Path, prefix: str,
                                           text_kept: bool) -> None:
    """An ASCII file's text is left on disk and read back by offset for a finding (a
    byte-order mark skipped); a file with other characters keeps its text. Both place a
    field where the composer does."""
    body = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: '1'\n"
            "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\nstringData:\n"
            "  token: t\n")
    target = tmp_path / "m.yaml"
    target.write_bytes((prefix + body).encode("utf-8"))
    loaded = manifests.load_paths([target])
    assert [isinstance(m.span[0], str) for m in loaded if m.span] == [text_kept] * 2
    slow_problems: list[manifests.Problem] = []
    slow = manifests._load_slow(prefix.removeprefix("\ufeff") + body, str(target),
                                slow_problems)
    for quick, exact in zip(loaded, slow, strict=True):
        for path, _ in iter_paths(quick.obj):
            assert quick.find(path) == exact.find(path), path
    assert loaded[1].locate(("stringData", "token")) == \
        (13 + prefix.count("\n"), 3)


def test_a_file_changed_after_reading_places_findings_at_the_object(tmp_path: Path
                                                                    ) -> None:
    """Never a wrong line: a document read back before the change keeps its exact
    positions (what was read is what was validated); one not yet read back is placed
    at its object's start."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: '1'\n"
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\ndata:\n"
            "  x: '1'\n")
    target = tmp_path / "m.yaml"
    target.write_text(text, encoding="utf-8")
    first, second = manifests.load_paths([target])
    assert isinstance(first.span[0] if first.span else None, manifests.FileText)
    assert first.locate(("data", "x")) == (6, 3)
    target.write_text("# now something else entirely\n" * 3, encoding="utf-8")
    assert first.locate(("data", "x")) == (6, 3)
    assert second.locate(("data", "x")) == (second.line, second.col) == (8, 1)


@pytest.mark.parametrize("edited", [False, True])
@pytest.mark.parametrize("depth", [manifests.MAX_DEPTH + 5, 100_000])
def test_a_too_deep_document_in_a_big_text_read_by_several_processes(
        depth: int, edited: bool) -> None:
    """The nesting check runs while the other processes read (they may parse the deep
    document, even crash on it): the answer is still the nesting problem, at its place,
    and no object."""
    head = _big_text(20, edited=edited)
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d}\ndata: " + \
        "[" * depth + "]" * depth + "\n"
    text = f"{head}---\n{deep}---\n{head}"
    assert len(text) > fast_reader.PARALLEL_MIN_CHARS
    problems: list[manifests.Problem] = []
    assert manifests._load(text, "x.yaml", problems, jobs=2) == []
    (problem,) = problems
    assert "nesting is deeper" in problem.message
    assert problem.location.line == head.count("\n") + 5


STRUCTURE_CASES = [
    "a:\n  b: word\n  c: 'q: word'\n  d: x - word\n  e:\n  - - word\n  - word\n",
    "a: |\n  k: word\n  - word\nb:\n  c: one two word\n  # k: word\n  d: v\n    word\n",
    "a:\n- k: word\n  l: word\n- word\n-   word\n- 'k': word\nb: {c: word}\n",
]


@pytest.mark.parametrize("text", STRUCTURE_CASES +
                         [p.read_text(encoding="utf-8") for p in CORPUS[:40]])
def test_plain_words_do_not_move_any_position(text: str) -> None:
    """Positions are read from a document's structure, its plain words replaced: every
    path (and every missing one) is placed where the text itself places it."""
    for start, end in fast_reader.document_bounds(text):
        doc = text[start:end]
        structure = manifests._structure(doc)
        assert structure.count("\n") == doc.count("\n")
        obj = yaml.safe_load(doc)
        paths = [p for p, _ in iter_paths(obj)] if isinstance(obj, dict) else []
        for path in [(), *paths, *((*p, "missing") for p in paths),
                     *((*p, 0) for p in paths)]:
            assert locate_lines(Lines(structure), path, 0) == \
                locate_lines(Lines(doc), path, 0), path


def test_copies_in_other_namespaces_share_one_structure() -> None:
    doc = (REPO / "output" / "kustomize" / "base" / "api.yaml").read_text(encoding="utf-8")
    copies = {manifests._structure(doc.replace("name: dify-api", f"name: dify-api-{i}"))
              for i in range(5)}
    assert len(copies) == 1

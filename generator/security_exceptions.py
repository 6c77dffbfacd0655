"""Declared departures from Pod Security Standards "restricted", and the file that declares
more of them (`validate --exceptions FILE`).

An exception names the image it is for and exactly what it relaxes: running as root
(`runAsNonRoot` unset or false, `runAsUser: 0`) and a list of added capabilities. Findings
of those checks, for containers running that image, become warnings that quote the reason;
every other finding stays an error. The catalog declares difygen's own (dify-sandbox);
an exceptions file declares a platform team's. An annotation a manifest carries on itself
(`difygen.io/security-exception`) is never honoured: anyone could write it.

The file (strict: unknown keys and wrong types are errors, with their positions):

    apiVersion: difygen.io/v1
    kind: SecurityExceptions
    exceptions:
    - image: registry.example.com/ops/supervisor        # repository, no tag
      reason: reaps and signals the processes of the pod
      runAsRoot: true                                     # default false
      addCapabilities: [KILL]                               # default none
      namespaces: [ops]                                   # default: every namespace
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from generator.errors import InputError, Location, Problem

API_VERSION = "difygen.io/v1"
KIND = "SecurityExceptions"
_ITEM_KEYS = {"image", "reason", "runAsRoot", "addCapabilities", "namespaces"}
_CAPABILITY = re.compile(r"^[A-Z][A-Z0-9_]*$")
_IMAGE = re.compile(r"^[a-z0-9]([a-z0-9._/:-]*[a-z0-9])?$")


@dataclass(frozen=True)
class SecurityException:
    """What one image may do beyond "restricted", why, and who declared it."""

    image: str  # repository without tag or digest; a registry prefix may precede it
    reason: str
    source: str  # "catalog (component sandbox)" or "file:line:col"
    run_as_root: bool = False
    add_capabilities: frozenset[str] = frozenset()
    namespaces: tuple[str, ...] = ()  # empty: every namespace

    def applies(self, image: Any, namespace: str) -> bool:
        if not isinstance(image, str) or not image:
            return False
        if self.namespaces and namespace not in self.namespaces:
            return False
        repo = repository(image)
        return repo == self.image or repo.endswith("/" + self.image)

    def describe(self) -> str:
        return f"allowed by the security exception for {self.image} ({self.source}): " \
               f"{self.reason}"


def repository(image: str) -> str:
    """The image reference without tag or digest ('host:5000/a/b:1' -> 'host:5000/a/b')."""
    repo = image.split("@", 1)[0]
    slash, colon = repo.rfind("/"), repo.rfind(":")
    return repo[:colon] if colon > slash else repo


@cache
def catalog_exceptions() -> tuple[SecurityException, ...]:
    from generator.catalog import CATALOG

    return tuple(
        SecurityException(image=c.image, reason=c.security.exception.reason,
                          source=f"catalog, component {c.name}",
                          run_as_root=c.security.exception.run_as_root,
                          add_capabilities=frozenset(c.security.exception.add_capabilities))
        for c in CATALOG if c.security.exception is not None)


def load_exceptions(path: str | Path) -> tuple[SecurityException, ...]:
    """The exceptions a file declares; InputError (exit 2) with positions otherwise."""
    from generator.manifest_loader import load_file

    source = str(path)
    problems: list[Problem] = []
    if not Path(path).is_file():
        raise InputError("cannot read exceptions", [Problem(
            Location(source), "no such file")])
    docs = load_file(Path(path), source, problems)
    if problems:
        raise InputError("bad exceptions file", problems)
    if len(docs) != 1:
        raise InputError("bad exceptions file", [Problem(
            Location(source, 1, 1), f"expected one document of kind {KIND}, found "
                                    f"{len(docs)}")])
    doc = docs[0]

    def bad(path_: tuple[str | int, ...], message: str) -> None:
        line, col = doc.locate(path_)
        key = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in path_)
        problems.append(Problem(Location(source, line, col, key.replace(".[", "[")),
                                message))

    if doc.api_version != API_VERSION or doc.kind != KIND:
        bad(("kind",), f"found {doc.api_version} {doc.kind}; allowed {API_VERSION} {KIND}")
    for key in sorted(set(doc.obj) - {"apiVersion", "kind", "exceptions"}):
        bad((key,), "unknown key; allowed apiVersion, kind, exceptions")
    items = doc.obj.get("exceptions")
    if not isinstance(items, list) or not items:
        bad(("exceptions",), "found no list of exceptions; allowed a non-empty list")
        items = []
    out: list[SecurityException] = []
    for i, item in enumerate(items):
        at: tuple[str | int, ...] = ("exceptions", i)
        if not isinstance(item, dict):
            bad(at, "found a non-mapping; allowed a mapping with image, reason, runAsRoot, "
                    "addCapabilities, namespaces")
            continue
        for key in sorted(set(item) - _ITEM_KEYS):
            bad((*at, key), "unknown key; allowed " + ", ".join(sorted(_ITEM_KEYS)) +
                " (an exception may relax only running as root and added capabilities)")
        image, reason = item.get("image"), item.get("reason")
        if not isinstance(image, str) or not _IMAGE.match(image) or "@" in image:
            bad((*at, "image"), f"found {image!r}; allowed an image repository without tag "
                                "or digest (e.g. registry.example.com/team/tool)")
        elif repository(image) != image:
            bad((*at, "image"), f"found {image!r} with a tag; allowed the repository "
                                f"alone ({repository(image)!r}): the exception is for the "
                                "image, whatever its version")
        if not isinstance(reason, str) or not reason.strip():
            bad((*at, "reason"), "found no reason; allowed a non-empty text that says why")
        root = item.get("runAsRoot", False)
        if not isinstance(root, bool):
            bad((*at, "runAsRoot"), f"found {root!r}; allowed true or false")
        caps = item.get("addCapabilities", [])
        if not isinstance(caps, list) or not all(
                isinstance(c, str) and _CAPABILITY.match(c) for c in caps):
            bad((*at, "addCapabilities"), f"found {caps!r}; allowed a list of capability "
                                          "names such as NET_ADMIN")
            caps = []
        namespaces = item.get("namespaces", [])
        if not isinstance(namespaces, list) or not all(
                isinstance(n, str) and n for n in namespaces):
            bad((*at, "namespaces"), f"found {namespaces!r}; allowed a list of namespaces")
            namespaces = []
        if root is not True and not caps:
            bad(at, "relaxes nothing; set runAsRoot: true or list addCapabilities")
        line, col = doc.locate(at)
        if isinstance(image, str) and isinstance(reason, str):
            out.append(SecurityException(
                image=image, reason=reason.strip(), source=f"{source}:{line}:{col}",
                run_as_root=root is True, add_capabilities=frozenset(caps),
                namespaces=tuple(namespaces)))
    if problems:
        raise InputError("bad exceptions file", problems)
    return tuple(out)

"""What `validate --manifests` reads, grouped into the sets that are validated together.

A file, or `-` (standard input), is read as it is. A directory is walked for `*.yaml`,
`*.yml` and `*.json` files, except:

- A directory holding a `kustomization.yaml` is a Kustomize root: its files are the inputs
  of a build, not objects. Each root that no other root in the walk builds on is built and
  validated as a set of its own: an overlay is one deployment (often to its own cluster),
  so two overlays are never summed into one namespace, and a shared base is counted only
  through the overlays that use it, never on its own as well.
- difygen's own kustomizations (those carrying its header) are built in memory from the
  files, with the small part of Kustomize difygen writes (resources, strategic-merge
  patches, images, namespace): findings point at the base or patch file and line that set
  the field. Any other kustomization is built by the real kustomize (`kubectl kustomize`
  or `kustomize build` on PATH); without one it is an input error.
- Helm values files difygen wrote (`values.yaml` with its header) are not Kubernetes
  objects and are skipped.

Every path given must yield at least one object: an empty file, an empty directory or an
empty pipe (a `kubectl kustomize` that failed upstream) is bad input (exit 2), never a
silent pass.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from generator.errors import InputError, Location, Problem
from generator.manifest_loader import (
    STDIN,
    YAML_SUFFIXES,
    Manifest,
    load_file,
    load_stdin,
    load_text,
)
from generator.yamlio import copy_data

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
_OWN_KEYS = frozenset({"apiVersion", "kind", "namespace", "resources", "patches", "images"})
# Lists a strategic-merge patch merges item by item (patchMergeKey in the API), as in the
# patches difygen writes (generator.targets.kustomize.MERGE_KEYS).
_MERGE_KEYS = {"containers": "name", "initContainers": "name", "env": "name",
               "volumes": "name", "volumeMounts": "mountPath"}
# Kinds the Kustomize namespace transformer leaves alone (they have no namespace).
_CLUSTER_SCOPED = frozenset({
    "Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition",
    "PersistentVolume", "StorageClass", "PriorityClass", "IngressClass", "RuntimeClass",
    "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration", "APIService",
    "CSIDriver", "CSINode", "VolumeAttachment", "Node", "ClusterIssuer",
    "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
})
KUSTOMIZE_TIMEOUT = 120


@dataclass
class ManifestSet:
    """Objects validated together: plain files and streams, or one Kustomize build."""

    label: str
    manifests: list[Manifest]


def collect(paths: Sequence[str | Path] | str, stdin_text: str | None = None,
            jobs: int = 1) -> list[ManifestSet]:
    """The sets to validate from files, directories and `-`, or from a YAML text (a str).
    `jobs`: processes that may read one big file or stream (manifest_fast.read).

    Raises InputError (exit 2) listing every bad file, every path that holds no object,
    and a run that finds no object at all."""
    if isinstance(paths, str):
        objects = load_text(paths)
        if not objects:
            raise InputError("no Kubernetes objects", [Problem(
                Location(STDIN), "no Kubernetes objects in the input; nothing to validate")])
        return [ManifestSet("", objects)]
    problems: list[Problem] = []
    plain: list[Manifest] = []
    builds: list[ManifestSet] = []
    missing = [Problem(Location(str(p)), "no such file or directory")
               for p in paths if str(p) != "-" and not Path(p).exists()]
    if missing:
        raise InputError("cannot read input", missing)
    for given in paths:
        before = len(plain) + sum(len(b.manifests) for b in builds)
        bad_before = len(problems)
        if str(given) == "-":
            if stdin_text is None:
                raise InputError("'-' given but no standard input was provided")
            plain.extend(load_stdin(stdin_text, problems, jobs))
        elif Path(given).is_dir():
            _walk_dir(Path(given), plain, builds, problems, jobs)
        else:
            plain.extend(load_file(Path(given), str(given), problems, jobs))
        after = len(plain) + sum(len(b.manifests) for b in builds)
        if after == before and len(problems) == bad_before:
            where = STDIN if str(given) == "-" else str(given)
            problems.append(Problem(Location(where), "no Kubernetes objects here; nothing "
                                    "to validate (an empty file, directory or pipe fails "
                                    "the gate)"))
    if problems:
        raise InputError("not valid Kubernetes YAML", problems)
    sets = ([ManifestSet("", plain)] if plain else []) + builds
    return sets


def _walk_dir(top: Path, plain: list[Manifest], builds: list[ManifestSet],
              problems: list[Problem], jobs: int = 1) -> None:
    roots: list[Path] = []
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        here = Path(dirpath)
        if any(name in filenames for name in KUSTOMIZATION_FILES):
            roots.append(here)
            dirnames[:] = []  # a root's files are build inputs, not objects
            continue
        files.extend(here / f for f in sorted(filenames)
                     if Path(f).suffix in YAML_SUFFIXES)
    for path in files:
        if path.name == "values.yaml" and _is_own(path):
            continue  # Helm values difygen wrote: not Kubernetes objects
        plain.extend(load_file(path, str(path), problems, jobs))
    used: set[Path] = set()
    for root in roots:
        used.update(_referenced_dirs(root))
    builder = _OwnBuilder(problems)
    for root in roots:
        if root.resolve() in used:
            continue
        own = _is_own(_kustomization_file(root))
        objects = builder.build(root, ()) if own else _real_kustomize(root, problems)
        builds.append(ManifestSet(str(root), objects))


def _kustomization_file(root: Path) -> Path:
    return next(root / n for n in KUSTOMIZATION_FILES if (root / n).is_file())


def _is_own(path: Path) -> bool:
    # Only a directory is looked at this way: the writer (hashlib, tempfile) stays out of
    # a plain file's validation.
    from generator.writer import HEADER, is_owned

    try:
        with path.open("rb") as fh:
            return is_owned(fh.read(len(HEADER.encode("utf-8"))))
    except OSError:
        return False


def _referenced_dirs(root: Path) -> list[Path]:
    """Directories a kustomization lists under resources (or bases/components)."""
    try:
        data = yaml.load(_kustomization_file(root).read_text(encoding="utf-8"),
                         Loader=yaml.CSafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []  # the build reports it
    out = []
    if isinstance(data, dict):
        for key in ("resources", "bases", "components"):
            for entry in data.get(key) or []:
                if isinstance(entry, str) and (root / entry).is_dir():
                    out.append((root / entry).resolve())
    return out


class _OwnBuilder:
    """difygen's own overlays built from their files, the way kustomize builds them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        self._files: dict[str, list[Manifest]] = {}

    def _fail(self, where: str, message: str) -> list[Manifest]:
        self.problems.append(Problem(Location(where), message))
        return []

    def _load(self, path: Path) -> list[Manifest]:
        key = os.path.normpath(path)
        if key not in self._files:
            self._files[key] = load_file(Path(key), key, self.problems)
        # A build changes its copies (images, namespace, patches): no longer as read.
        return [replace(m, obj=copy_data(m.obj), as_read=False) for m in self._files[key]]

    def build(self, root: Path, stack: tuple[Path, ...]) -> list[Manifest]:
        kfile = _kustomization_file(root)
        where = os.path.normpath(kfile)
        if root.resolve() in stack:
            return self._fail(where, "kustomization refers to itself through its resources")
        try:
            spec = yaml.load(kfile.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            return self._fail(where, f"cannot read kustomization: {exc}")
        if not isinstance(spec, dict):
            return self._fail(where, "a kustomization is a mapping")
        unknown = sorted(set(spec) - _OWN_KEYS)
        if unknown:
            return self._fail(where, f"{', '.join(unknown)}: difygen does not write these "
                                     "fields (was the file edited?); build it with "
                                     "`kubectl kustomize` and validate the output with "
                                     "`difygen validate --manifests -`")
        objects: list[Manifest] = []
        for entry in spec.get("resources") or []:
            target = root / str(entry)
            if target.is_dir():
                objects.extend(self.build(target, (*stack, root.resolve())))
            elif target.is_file():
                objects.extend(self._load(target))
            else:
                self._fail(where, f"resources: {entry}: no such file or directory")
        for entry in spec.get("patches") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                self._fail(where, f"patches: {entry!r}: difygen writes only `path:` patches")
                continue
            for patch in self._load(root / entry["path"]):
                objects = self._apply(objects, patch)
        for image in spec.get("images") or []:
            if isinstance(image, dict):
                _set_images(objects, image)
        namespace = spec.get("namespace")
        if isinstance(namespace, str) and namespace:
            for m in objects:
                if m.kind not in _CLUSTER_SCOPED:
                    m.set_namespace(namespace)
        return objects

    def _apply(self, objects: list[Manifest], patch: Manifest) -> list[Manifest]:
        for i, target in enumerate(objects):
            if target.kind == patch.kind and target.name == patch.name:
                if patch.obj.get("$patch") == "delete":
                    return objects[:i] + objects[i + 1:]
                objects[i] = replace(target, obj=_merge(target.obj, patch.obj),
                                     layers=((patch.file, patch), *target.layers))
                return objects
        self.problems.append(Problem(Location(patch.file, patch.line, patch.col),
                                     f"patch for {patch.kind} {patch.name}: the resources "
                                     "have no such object"))
        return objects


def _merge(base: Any, patch: Any) -> Any:
    """A strategic-merge patch applied: maps merge, null deletes, keyed lists merge by key,
    `$patch: replace` as a list's first item replaces it, other lists are replaced."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return copy_data(patch)
    out = dict(base)
    for key, value in patch.items():
        if key == "$patch":
            continue
        if value is None:
            out.pop(key, None)
            continue
        old = out.get(key)
        if isinstance(value, dict) and isinstance(old, dict):
            out[key] = _merge(old, value)
        elif key in _MERGE_KEYS and isinstance(value, list) and isinstance(old, list):
            out[key] = _merge_list(old, value, _MERGE_KEYS[key])
        else:
            out[key] = copy_data(value)
    return out


def _merge_list(base: list[Any], patch: list[Any], key: str) -> list[Any]:
    if patch and isinstance(patch[0], dict) and patch[0].get("$patch") == "replace":
        return [copy_data(item) for item in patch[1:]]
    out = list(base)
    for item in patch:
        at = next((i for i, old in enumerate(out) if isinstance(old, dict)
                   and isinstance(item, dict) and old.get(key) == item.get(key)), None)
        if at is None:
            out.append(copy_data(item))
        else:
            out[at] = _merge(out[at], item)
    return out


def _set_images(objects: list[Manifest], image: dict[str, Any]) -> None:
    """Kustomize's image transformer: a container image whose name (without tag or
    digest) is `name` gets `newName`, `newTag` or `digest`."""
    name = image.get("name")
    for m in objects:
        for container in _containers(m.obj):
            ref = container.get("image")
            if not isinstance(ref, str):
                continue
            repo, tag = _split_image(ref)
            if repo != name:
                continue
            repo = str(image.get("newName") or repo)
            if image.get("digest"):
                tag = "@" + str(image["digest"])
            elif image.get("newTag") is not None:
                tag = ":" + str(image["newTag"])
            container["image"] = repo + tag


def _split_image(ref: str) -> tuple[str, str]:
    if "@" in ref:
        repo, digest = ref.split("@", 1)
        return repo, "@" + digest
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon:]
    return ref, ""


def _containers(obj: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    stack = [obj]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("containers", "initContainers") and isinstance(value, list):
                    found.extend(c for c in value if isinstance(c, dict))
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _real_kustomize(root: Path, problems: list[Problem]) -> list[Manifest]:
    """A kustomization difygen did not write, built by the real tool."""
    label = f"{root} (kustomize build)"
    if shutil.which("kubectl"):
        command = ["kubectl", "kustomize", str(root)]
    elif shutil.which("kustomize"):
        command = ["kustomize", "build", str(root)]
    else:
        problems.append(Problem(Location(str(root)), "a kustomization not written by "
                                "difygen, and neither kubectl nor kustomize is on PATH to "
                                "build it; pipe `kustomize build` output to `difygen "
                                "validate --manifests -`"))
        return []
    try:
        proc = subprocess.run(command, capture_output=True, text=True, check=False,
                              timeout=KUSTOMIZE_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        problems.append(Problem(Location(str(root)), f"{' '.join(command)}: {exc}"))
        return []
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or ["failed"])[0]
        problems.append(Problem(Location(str(root)), f"{' '.join(command)}: {first}"))
        return []
    try:
        return load_text(proc.stdout, label)
    except InputError as exc:
        problems.extend(exc.problems)
        return []

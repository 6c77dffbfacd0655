"""No secret values in the output."""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from generator.manifest_loader import Manifest
from generator.rules.base import ERROR, Context, Finding, ObjectRule, as_dict, as_list, finding
from generator.rules.workloads import TEMPLATE_PATHS, Workload, workloads

_REFERENCE_ONLY = re.compile(r"^\$\([A-Za-z_][A-Za-z0-9_.-]*\)$")


# A pure function of the name, and env names repeat across every copy of an overlay.
@lru_cache(maxsize=4096)
def looks_secret(name: str) -> bool:
    """PASSWORD or SECRET anywhere, TOKEN as a whole word, KEY as the last word.

    Words are split on '_' so that TIKTOKEN_CACHE_DIR or KEYCLOAK_URL are not secrets.
    """
    upper = name.upper()
    words = upper.replace("-", "_").replace(".", "_").split("_")
    return ("PASSWORD" in upper or "SECRET" in upper or "TOKEN" in words
            or (len(words) > 1 and words[-1] == "KEY"))


class SecretData(ObjectRule):
    """No Secret carries data, and no secret-looking env var holds a literal value.

    Output goes to a Git repository, so secret values must come from outside it (an
    existing Secret, External Secrets, Sealed Secrets, a CSI driver). A Secret object with
    non-empty `data` or `stringData` is an error. So is a container env var whose name
    looks like a secret (contains PASSWORD or SECRET, has TOKEN as a word, or ends in
    _KEY) and has a non-empty literal `value`; use `valueFrom.secretKeyRef`. A value that
    is only a `$(OTHER_VAR)` reference passes.
    """

    id = "secret-data"
    layer = "policy"

    def check_object(self, manifest: Manifest, ctx: Context) -> Iterator[Finding]:
        if manifest.kind == "Secret" and manifest.api_version == "v1":
            for key in ("data", "stringData"):
                if as_dict(manifest.obj.get(key)):
                    yield finding(self.id, ERROR, manifest, (key,),
                                  f"Secret {manifest.name!r} holds values in {key}; keep "
                                  "secret values out of the repository")
        if manifest.kind not in TEMPLATE_PATHS:
            return
        w = _workload_of(ctx, manifest)
        if w is None:  # no pod spec: no containers
            return
        for c in w.containers():
            for i, item in enumerate(as_list(c.spec.get("env"))):
                item = as_dict(item)
                name, value = item.get("name"), item.get("value")
                if (isinstance(name, str) and looks_secret(name) and value not in (None, "")
                        and not _REFERENCE_ONLY.match(str(value))):
                    yield finding(self.id, ERROR, manifest, (*c.path, "env", i, "value"),
                                  f"container {c.name!r} env {name} has a literal value; "
                                  "use valueFrom.secretKeyRef")


def _workload_of(ctx: Context, manifest: Manifest) -> Workload | None:
    """The run's shared Workload of a built-in workload kind (its containers are found
    once for all rules), keyed by the manifest's identity: the Context holds every
    manifest for the whole run, so an id is never reused meanwhile."""
    by_id: dict[int, Workload] | None = ctx.memo.get("built_in_workloads")
    if by_id is None:
        by_id = ctx.memo["built_in_workloads"] = {
            id(w.manifest): w for w in workloads(ctx)
            if TEMPLATE_PATHS.get(w.manifest.kind) == w.template_path}
    return by_id.get(id(manifest))

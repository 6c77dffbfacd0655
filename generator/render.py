"""The render pipeline: profiles in, validated files out (in memory).

Nothing here writes: `render()` returns every file and object so that `difygen render`
can write atomically, `difygen check` can compare, and `--dry-run` can report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from generator.errors import Location, Problem, ProblemList, RenderInvalid
from generator.plan import Plan, plan_for
from generator.profile_load import ProfileRef
from generator.targets.helm import render_values, values_path
from generator.targets.kustomize import Overlay, base_objects, render_base, render_overlay

if TYPE_CHECKING:
    from generator.rules.base import Finding

BASE_PREFIX = "kustomize/base"


def overlay_prefix(name: str) -> str:
    return f"kustomize/overlays/{name}"


def helm_prefix(name: str) -> str:
    return f"helm/{name}"


@dataclass
class RenderedProfile:
    plan: Plan
    overlay: Overlay
    helm_gaps: tuple[str, ...] = ()


@dataclass
class RenderResult:
    files: dict[str, str] = field(default_factory=dict)
    profiles: list[RenderedProfile] = field(default_factory=list)

    @property
    def managed(self) -> tuple[str, ...]:
        """The directories this render manages (see generator.writer): it replaces
        difygen's files in them, and only those."""
        out = [BASE_PREFIX]
        for p in self.profiles:
            out += [overlay_prefix(p.plan.name), helm_prefix(p.plan.name)]
        return tuple(out)


# The profile key behind each rule that a profile's numbers can break, so that its error
# points at the line to change rather than at a rendered object. "{c}" is the component
# the finding's object belongs to (its image key under images.tags), "{r}" the resource
# the finding's path ends in (cpu, memory).
_PROFILE_KEYS: dict[str, tuple[str, ...]] = {
    "node-fit": ("node", "{r}"),
    "quota-fit": ("resourceQuota",),
    "image-tag": ("images", "tags", "{c}"),
    "redis-maxmemory": ("components", "redis", "resources", "limits", "memory"),
    "db-connection-budget": ("components", "{c}"),
    "rwo-shared": ("components", "{c}", "persistence"),
    "limits-ge-requests": ("components", "{c}", "resources"),
    "resources-limits": ("components", "{c}", "resources"),
    "probes": ("components", "{c}", "probes"),
}


def _component(object_name: str) -> str | None:
    from generator.catalog import COMPONENTS

    name = object_name.removeprefix("dify-")
    return name if name in COMPONENTS else None


def _profile_location(plan: Plan | None, rule: str, object_name: str,
                      path: str) -> Location | None:
    """The profile line that caused a rule's finding, when the rule is one a profile's
    values drive (see _PROFILE_KEYS)."""
    from generator.profile_load import locate
    from generator.sizing import image_key

    keys = _PROFILE_KEYS.get(rule)
    if plan is None or keys is None:
        return None
    component = _component(object_name)
    if component is not None and keys[:2] == ("images", "tags"):
        component = image_key(component)
    fill = {"{c}": component, "{r}": path.rsplit(".", 1)[-1] if path else None}
    out: list[str] = []
    for key in keys:
        value = fill.get(key, key)
        if value is None:
            break
        out.append(value)
    return locate(plan.profile, tuple(out))


def at_profile_line(finding: Finding, plan: Plan | None, where: str) -> Finding:
    """The finding placed at the profile value that caused it (see _PROFILE_KEYS), the
    rendered object named after the message; unchanged when no profile value did."""
    at = _profile_location(plan, finding.rule, finding.name, finding.path)
    if at is None or at.line is None:
        return finding
    ident = f"{finding.kind}/{finding.name}" + (f": {finding.path}" if finding.path else "")
    return finding._replace(file=at.file, line=at.line, col=at.column or 1,
                   message=f"{at.key_path}: {finding.message} (in {where} {ident})")


def rule_problems(objects: list[dict[str, Any]], version: str, where: str,
                  layers: tuple[str, ...] = ("schema", "policy", "sizing"),
                  plan: Plan | None = None) -> list[Problem]:
    """Errors of the validation rules on in-memory objects (warnings do not block).

    With the plan, an error a profile value caused points at that value in the profile
    (and names the rendered object after the message)."""
    from generator.manifest_loader import in_memory
    from generator.validate import select_rules, validate_objects

    manifests = [in_memory(obj, where) for obj in objects]
    result = validate_objects(manifests, version, rules=select_rules(only=layers))
    problems = []
    for f in result.findings:
        if f.severity != "error":
            continue
        ident = f"{f.kind}/{f.name}" + (f": {f.path}" if f.path else "")
        at = _profile_location(plan, f.rule, f.name, f.path)
        if at is not None:
            problems.append(Problem(at, f"{f.message} ({f.rule}; in {where} {ident})"))
        else:
            problems.append(Problem(Location(where, key_path=ident), f"{f.message} ({f.rule})"))
    return problems


def render(refs: list[ProfileRef]) -> RenderResult:
    """Plan, build and validate every profile; raise RenderInvalid if anything fails."""
    unique = {ref.name: ref for ref in refs}
    return render_plans([plan_for(unique[name]) for name in sorted(unique)])


def render_plans(plans: list[Plan],
                 on_progress: Callable[[int, int], None] | None = None) -> RenderResult:
    """Build and validate the outputs of already-resolved plans (profiles or a fleet).

    `on_progress(done, total)`, if given, is called before each plan and once at the end
    (a fleet of hundreds of environments shows progress with it).
    """
    result = RenderResult()
    problems = ProblemList()
    result.files.update(render_base())
    for done, plan in enumerate(sorted(plans, key=lambda p: p.name)):
        if on_progress is not None:
            on_progress(done, len(plans))
        overlay = render_overlay(plan)
        version = plan.profile.kubernetes_version
        problems.problems.extend(
            rule_problems(overlay.objects, version, overlay_prefix(plan.name), plan=plan))
        result.files.update(overlay.files)
        try:
            helm = render_values(plan)
        except RenderInvalid as exc:
            problems.problems.extend(exc.problems)
            continue
        result.files[values_path(plan.name)] = helm.text
        result.profiles.append(RenderedProfile(plan, overlay, helm.gaps))
    if on_progress is not None:
        on_progress(len(plans), len(plans))
    if result.profiles:
        oldest = min((p.plan.profile.kubernetes_version for p in result.profiles),
                     key=lambda v: tuple(int(x) for x in v.split(".")))
        # The base is never deployed alone: only the schema applies to it.
        problems.problems.extend(rule_problems(base_objects(), oldest, BASE_PREFIX,
                                               ("schema",)))
    problems.raise_if_any(RenderInvalid, "rendered manifests failed validation; nothing "
                                         "was written")
    result.files = dict(sorted(result.files.items()))
    return result


def orphans(out: Path, known: set[str]) -> list[str]:
    """Names under `out` with difygen's files in an overlay or Helm directory but no
    profile (or fleet environment) of that name: left by a renamed or deleted profile."""
    from generator.writer import owned_names

    return [name for name in owned_names(out) if name not in known]


def orphan_units(names: list[str]) -> tuple[str, ...]:
    return tuple(unit for name in names for unit in (overlay_prefix(name), helm_prefix(name)))


def existing_profiles(out: Path) -> list[str]:
    """Profiles that have difygen's files under `out` (what `check` re-renders)."""
    from generator.writer import owned_names

    return owned_names(out)

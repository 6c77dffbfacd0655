"""The render pipeline: profiles in, validated files out (in memory).

Nothing here writes: `render()` returns every file and object so that `difygen render`
can write atomically, `difygen check` can compare, and `--dry-run` can report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from generator.errors import Location, Problem, ProblemList, RenderInvalid
from generator.plan import Plan, plan_for
from generator.profiles import ProfileRef
from generator.targets.helm import render_values, values_path
from generator.targets.kustomize import Overlay, base_objects, render_base, render_overlay

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


def rule_problems(objects: list[dict[str, Any]], version: str, where: str,
                  layers: tuple[str, ...] = ("schema", "policy", "sizing")) -> list[Problem]:
    """Errors of the validation rules on in-memory objects (warnings do not block)."""
    from generator.manifests import in_memory
    from generator.validate import select_rules, validate_objects

    manifests = [in_memory(obj, where) for obj in objects]
    result = validate_objects(manifests, version, rules=select_rules(only=layers))
    return [
        Problem(Location(where, key_path=f"{f.kind}/{f.name}" + (f": {f.path}" if f.path
                                                                    else "")),
                f"{f.message} ({f.rule})")
        for f in result.findings if f.severity == "error"
    ]


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
            rule_problems(overlay.objects, version, overlay_prefix(plan.name)))
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

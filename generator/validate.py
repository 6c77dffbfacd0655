"""Validation of manifests: the schema, policy and sizing layers, as one result object.

The CLI maps a result to an exit code (`ValidationResult.exit_code`: 0 clean, warnings
allowed; 1 errors) and bad input to 2 (an InputError raised by the loader). Nothing here
prints or exits.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from generator.errors import UsageError
from generator.manifest_loader import Manifest
from generator.rule_runner import run_rules
from generator.rules import RULE_IDS, RULES, Context, Finding, Rule
from generator.rules.base import FINDING_ORDER
from generator.security_exceptions import SecurityException, load_exceptions

EXIT_OK = 0
EXIT_FINDINGS = 1
# As generator.versions.DEFAULT_KUBERNETES_VERSION (a test holds them equal): importing the
# profile loader here would put its schemas and ruamel on the manifest gate's start-up.
DEFAULT_KUBERNETES_VERSION = "1.35"


@dataclass(frozen=True)
class ValidationResult:
    """Findings in a stable order (file, line, column, rule) and what was looked at."""

    findings: tuple[Finding, ...]
    objects: int
    files: int
    kube_version: str
    # What ran on what, for reports that list passes too (JUnit): (file, object label).
    checked: tuple[tuple[str, str], ...] = ()
    rules: tuple[str, ...] = ()

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == "warning")

    @property
    def exit_code(self) -> int:
        return EXIT_FINDINGS if self.errors else EXIT_OK

    @property
    def ok(self) -> bool:
        return self.errors == 0


def combine(results: Sequence[ValidationResult]) -> ValidationResult:
    """Several independent validations (one per profile) reported as one."""
    versions = sorted({r.kube_version for r in results})
    return ValidationResult(
        findings=tuple(sorted((f for r in results for f in r.findings), key=FINDING_ORDER)),
        objects=sum(r.objects for r in results),
        files=sum(r.files for r in results),
        kube_version=", ".join(versions),
        checked=tuple(c for r in results for c in r.checked),
        rules=tuple(dict.fromkeys(rule for r in results for rule in r.rules)),
    )


def select_rules(only: Iterable[str] | None = None,
                 skip: Iterable[str] | None = None) -> tuple[Rule, ...]:
    """Rules by id or layer name ('schema', 'policy', 'sizing'); unknown names are a
    usage error."""
    only_set = set(only) if only is not None else None
    skip_set = set(skip or ())
    names = set(RULE_IDS) | {r.layer for r in RULES}
    unknown = sorted(((only_set or set()) | skip_set) - names)
    if unknown:
        raise UsageError(f"unknown rule or layer: {', '.join(unknown)} (known: "
                         f"{', '.join(RULE_IDS)}; layers schema, policy, sizing)")
    return tuple(r for r in RULES
                 if (only_set is None or r.id in only_set or r.layer in only_set)
                 and r.id not in skip_set and r.layer not in skip_set)


def validate_objects(objects: Sequence[Manifest],
                     kube_version: str = DEFAULT_KUBERNETES_VERSION, *,
                     rules: Sequence[Rule] | None = None,
                     exceptions: Sequence[SecurityException] = (),
                     jobs: int = 1, list_checked: bool = True,
                     keep: list[object] | None = None) -> ValidationResult:
    """Validate objects already in memory (rendered, or loaded by generator.manifest_loader).

    For objects that never were YAML text build each with `manifests.in_memory(obj, file,
    line)`; findings then point at that file and line. Objects loaded from text keep exact
    field positions. `jobs` > 1 runs the rules of a big set in that many processes; the
    findings are the same. `list_checked=False` leaves `checked` empty: only a report
    that lists passes (JUnit) reads it, and labelling 24,000 objects costs 25 ms.
    `keep`, when given, receives what the rules built (their views of the set), so that
    the caller decides when it is freed (as `keep_loaded` of validate_manifests).
    """
    from generator.k8s_schemas import version_dir

    version_dir(kube_version)  # an unsupported version is a usage error, raised up front
    ctx = Context(objects, kube_version, exceptions)
    chosen = tuple(RULES if rules is None else rules)
    found = run_rules(chosen, ctx, jobs)
    if keep is not None:
        keep.append(ctx)
    found.sort(key=FINDING_ORDER)
    files = len({m.file for m in objects})
    checked = tuple(dict.fromkeys((m.file, object_label(m)) for m in objects)) \
        if list_checked else ()
    return ValidationResult(tuple(found), len(objects), files, kube_version, checked,
                            tuple(r.id for r in chosen))


def object_label(m: Manifest) -> str:
    """Kind/namespace/name, or Kind/name for cluster-scoped objects."""
    return f"{m.kind}/{m.namespace}/{m.name}" if m.namespace else f"{m.kind}/{m.name}"


def validate_manifests(paths_or_text: Sequence[str | Path] | str,
                       kube_version: str = DEFAULT_KUBERNETES_VERSION, *,
                       stdin_text: str | None = None,
                       rules: Sequence[Rule] | None = None,
                       exceptions_file: str | Path | None = None,
                       jobs: int = 1,
                       keep_loaded: list[object] | None = None,
                       list_checked: bool = True) -> ValidationResult:
    """Load and validate files and directories (a sequence; `-` reads `stdin_text`) or a
    YAML text (a str). Raises InputError (exit 2) for input that is not Kubernetes YAML
    or holds no object. A directory with Kustomize roots (difygen's output tree) is
    validated one build at a time (generator.manifest_sources). `exceptions_file` adds the
    security exceptions it declares to the catalog's. `jobs`: processes that may read a
    big file (the answer is the same with any number). `keep_loaded`, when given,
    receives the loaded objects (and the rules' views of them), so that the caller
    decides when they are freed: freeing 24,000 objects' data takes 0.1 to 0.3 s, which
    a command-line run that exits next need not spend (generator.cli.entry leaves
    without tearing anything down).
    `list_checked`: as for validate_objects."""
    from generator.manifest_sources import collect

    exceptions = load_exceptions(exceptions_file) if exceptions_file is not None else ()
    sets = collect(paths_or_text, stdin_text, jobs)
    if keep_loaded is not None:
        keep_loaded.append(sets)
    results = [_in_build(validate_objects(s.manifests, kube_version, rules=rules,
                                          exceptions=exceptions, jobs=jobs,
                                          list_checked=list_checked, keep=keep_loaded),
                           s.label)
               for s in sets]
    return results[0] if len(results) == 1 else combine(results)


def _in_build(result: ValidationResult, label: str) -> ValidationResult:
    """A finding in a file shared by several builds (a base) names the build it is from."""
    if not label:
        return result
    inside = label.rstrip("/") + "/"
    return replace(result, findings=tuple(
        f if f.file.startswith(inside) else f._replace(message=f"{f.message} (in {label})")
        for f in result.findings))

"""The commands: parse, call the core, print. With generator.cli, the only place that
prints or exits.

Built on click directly. typer (which the first releases used) built a pydantic adapter
for every option of every command on each run: importing it and dispatching one command
took about a quarter of a second, 40% of `difygen render --all` (docs/validate.md,
"Speed"). click is what typer parsed with, so the help layout and the usage errors
(exit 2) are as before; shell completion is click's own protocol (generator.completion).

Exit codes: 0 ok; 1 validation findings; 2 bad input or usage; 3 `check` found drift.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from generator.errors import GeneratorError, UsageError
from generator.versions import DEFAULT_KUBERNETES_VERSION as DEFAULT_KUBE

if TYPE_CHECKING:
    from generator.profile_load import ProfileRef


class _Group(click.Group):
    """Commands listed in the order they are defined (click sorts them by name): the
    order a new user reads them in, render first."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


class _Command(click.Command):
    """A command whose --help also explains its arguments (click documents options
    only): `arguments` holds (name as shown, help) pairs."""

    def __init__(self, *args: Any, arguments: Sequence[tuple[str, str]] = (),
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arguments = tuple(arguments)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if self.arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(list(self.arguments))
        super().format_options(ctx, formatter)


_DEBUG = False
# -1 quiet, 0 normal, 1 verbose (report.QUIET, NORMAL, VERBOSE)
_VERBOSITY = 0


def debug() -> bool:
    return _DEBUG


# What `validate --manifests` loaded, kept alive until the process ends: generator.cli.entry
# exits without freeing anything, and freeing a big set's objects one by one would cost a
# tenth of a second or more for nothing.
_LOADED: list[object] = []


_DIR = click.Path(file_okay=False, path_type=Path)
_FILE = click.Path(dir_okay=False, path_type=Path)


def _profiles_dir_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--profiles-dir", type=_DIR, metavar="DIR",
                        help="Directory of custom profiles (*.yaml); they are listed beside "
                        "the built-in edge, small and production.")


def _out_option() -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    return click.option("--out", type=_DIR, metavar="DIR", default=Path("output"),
                        show_default=True,
                        help="Output directory (the tree you commit). It may be a symbolic "
                        "link (resolved once); links inside it are refused.")


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from generator.cli import version_text

        click.echo(version_text(), nl=False)
        ctx.exit(0)


# The shells click completes; `pwsh` is PowerShell's own command name.
_SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
_COMPLETE_VAR = "_DIFYGEN_COMPLETE"


def _completion(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    """--show-completion [SHELL] and --install-completion [SHELL]: the named shell, else
    the one in $SHELL."""
    if value is None or ctx.resilient_parsing:
        return
    from generator.completion import install_completion, shell_from_env, source

    shell = value or shell_from_env(os.environ)
    if shell not in _SHELLS:
        raise click.BadParameter(f"{shell!r}: choose one of {', '.join(_SHELLS)}", ctx, param)
    shell = "powershell" if shell == "pwsh" else shell
    assert ctx.parent is None  # a root option: ctx.command is the whole CLI
    script = source(ctx.command, shell, _COMPLETE_VAR)
    if param.name == "show_completion":
        click.echo(script, nl=False)
    else:
        path = install_completion(shell, script, Path.home())
        click.echo(f"{shell} completion installed in {path}; restart the shell")
    ctx.exit(0)


@click.group(cls=_Group, name="difygen", no_args_is_help=True,
             help="Sizing profiles to validated Kustomize overlays and Helm values for "
             "self-hosted Dify on Kubernetes.\n\nExit codes: 0 ok, 1 validation findings, "
             "2 bad input or usage, 3 committed output is stale (check).")
@click.option("--debug", is_flag=True, help="Show a traceback for internal errors.")
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_version, help="Print the version and the pinned Dify, Helm chart "
              "and Kubernetes versions, and exit.")
@click.option("--quiet", "-q", is_flag=True, help="Print only errors (and validate's "
              "summary line); give it before the command: difygen -q render.")
@click.option("--verbose", "-v", is_flag=True, help="Print everything in full: each Helm "
              "note of each profile, every finding's whole explanation.")
@click.option("--install-completion", is_flag=False, flag_value="", default=None,
              metavar="[SHELL]", expose_value=False, is_eager=True, callback=_completion,
              help="Install completion for SHELL (bash, zsh, fish, powershell; default: "
              "the one in $SHELL).")
@click.option("--show-completion", is_flag=False, flag_value="", default=None,
              metavar="[SHELL]", expose_value=False, is_eager=True, callback=_completion,
              help="Print the completion script for SHELL (default: the one in $SHELL), "
              "to install it yourself.")
def cli(debug: bool, quiet: bool, verbose: bool) -> None:
    global _DEBUG, _VERBOSITY
    if quiet and verbose:
        raise click.UsageError("choose --quiet or --verbose, not both")
    _DEBUG = debug
    _VERBOSITY = -1 if quiet else 1 if verbose else 0


def _refs(names: list[str], all_: bool, profiles_dir: Path | None,
          command: str = "render", alternative: str = "") -> list[ProfileRef]:
    from generator import profile_load

    if all_ and names:
        raise UsageError("give profile names or --all, not both")
    if all_:
        return list(profile_load.discover(profiles_dir))
    if not names:
        raise UsageError(f"name the profiles to {command} (e.g. `difygen {command} small`) "
                         f"or pass --all{alternative}; `difygen profiles` lists them")
    return [profile_load.find(n, profiles_dir) for n in names]


_BAR_WIDTH = 30


def progress_bar(done: int, total: int) -> str:
    filled = _BAR_WIDTH * done // total if total else _BAR_WIDTH
    return f"rendering environments [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done}/{total}"


def _progress_line() -> Callable[[int, int], None] | None:
    """A progress bar on stderr for long (fleet) renders, only when stderr is a terminal
    and not --quiet: logs and CI output stay clean."""
    if not sys.stderr.isatty() or _VERBOSITY < 0:
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        click.echo(f"\r{progress_bar(done, total)}{end}", err=True, nl=False)

    return show


@cli.command(cls=_Command, arguments=[
    ("PROFILE...", "Profiles to render, by name (built-in or from --profiles-dir).")])
@click.argument("profile", nargs=-1)
@click.option("--all", "all_", is_flag=True, help="Render every built-in and custom profile.")
@_out_option()
@_profiles_dir_option()
@click.option("--dry-run", is_flag=True, help="Show which files would be added, changed or "
              "removed; write nothing.")
@click.option("--fleet", type=_FILE, metavar="FILE",
              help="Render every environment of a fleet file (see docs/fleet.md), with its "
              "Argo CD and Flux objects; not with profile names, --all or --profiles-dir. "
              "Overlays of environments no longer in the file are pruned.")
@click.option("--prune", is_flag=True,
              help="Also remove difygen's files from overlays and Helm values of profiles "
              "that no longer exist (renamed or deleted; pass the same --profiles-dir). "
              "Without it they are reported as orphaned.")
def render(profile: tuple[str, ...], all_: bool, out: Path, profiles_dir: Path | None,
           dry_run: bool, fleet: Path | None, prune: bool) -> None:
    """Validate, then write Kustomize overlays and Helm values for the given profiles.

    Everything is computed and validated in memory first. Only difygen's own files (those
    with its generated-file header) in its directories are replaced or removed, each
    directory atomically; other files are kept and reported. Symbolic links inside the
    output tree are refused (exit 2); --out itself may be a link.

    \b
    Examples:
      difygen render --all
      difygen render small production --out gitops/dify
      difygen render my-team --profiles-dir profiles.d --dry-run
      difygen render --fleet fleet.yaml --out output
      difygen render --all --profiles-dir profiles.d --prune
    """
    from generator.render import RenderResult, orphan_units, orphans
    from generator.render import render as do_render
    from generator.writer import diff_tree, resolve_out, scan, write_tree

    result: RenderResult
    if fleet is not None:
        from generator.fleet import render_fleet

        if profile or all_ or profiles_dir is not None:
            raise UsageError("--fleet renders the environments of the fleet file: give no "
                             "profile names, --all or --profiles-dir (set profilesDir in the "
                             "fleet file)")
        result = render_fleet(fleet, on_progress=_progress_line())
        known = {p.plan.name for p in result.profiles}
    else:
        from generator import profile_load as prof

        refs = _refs(list(profile), all_, profiles_dir)
        result = do_render(refs)
        known = {r.name for r in prof.discover(profiles_dir)}
    target = resolve_out(out)
    orphaned = orphans(target, known)
    # A fleet declares every environment, so what it no longer names goes; a render of
    # profiles cannot tell a deleted profile from one it was not told about: --prune.
    pruning = fleet is not None or prune
    units = (*result.managed, *orphan_units(orphaned)) if pruning else result.managed
    if dry_run:
        change = diff_tree(scan(target, units), result.files)
        verb = "would"
    else:
        change = write_tree(target, result.files, units)
        verb = "did"
    if _VERBOSITY >= 0 or dry_run:
        # One write for what may be thousands of lines (a fleet); each path is a plain
        # relative one, so joining it to `out` is appending it to this prefix.
        prefix = str(out / "_")[:-1]
        lines = [f"{verb} {label}: {prefix}{path}"
                 for label, paths in (("add", change.added), ("change", change.changed),
                                      ("remove", change.removed)) for path in paths]
        if lines:
            click.echo("\n".join(lines))
    # kept and orphaned files are warnings (something to act on): --quiet still shows them
    for path in change.kept:
        click.echo(f"kept (not difygen's, no generated-file header): {out / path}", err=True)
    if not pruning:
        for name in orphaned:
            click.echo(f"orphaned: {out / 'kustomize/overlays' / name} and "
                       f"{out / 'helm' / name}: no profile {name!r} (renamed or deleted?); "
                       "`difygen render --prune` removes difygen's files there", err=True)
    if _VERBOSITY < 0 and not dry_run:
        return
    names = ", ".join(p.plan.name for p in result.profiles) if fleet is None else (
        f"fleet {fleet}: {len(result.profiles)} environments")
    if change.empty:
        click.echo(f"{out}: up to date ({names})")
    elif not dry_run:
        click.echo(f"{out}: rendered {names}")
    _helm_notes([(r.plan.name, r.helm_gaps) for r in result.profiles])


def _helm_notes(gaps: list[tuple[str, tuple[str, ...]]]) -> None:
    """What the Helm values cannot carry. Each note is shown once with the profiles it
    concerns (--verbose), or counted on one line (default): a fleet repeats its profiles'
    notes once per environment."""
    if _VERBOSITY < 0:
        return
    where: dict[str, list[str]] = {}
    for name, notes in gaps:
        for note in notes:
            where.setdefault(note, []).append(name)
    if not where:
        return
    if _VERBOSITY > 0:
        for note, names in where.items():
            click.echo(f"note: helm ({', '.join(names)}): {note}", err=True)
        return
    names = list(dict.fromkeys(n for ns in where.values() for n in ns))
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    click.echo(f"note: the Helm values of {shown} cannot carry {len(where)} settings the "
               "overlays have; `difygen explain PROFILE` lists them (or rerun with "
               "difygen --verbose render ...); see docs/helm.md", err=True)


@cli.command()
@_profiles_dir_option()
def profiles(profiles_dir: Path | None) -> None:
    """List built-in and custom profiles with their `extends` chain."""
    from generator import profile_load as prof

    for ref in prof.discover(profiles_dir):
        try:
            chain = " -> ".join(prof.describe_chain(ref))
        except GeneratorError as exc:
            chain = f"(invalid: {exc.lines()[0]})"
        kind = "built-in" if ref.builtin else "custom"
        click.echo(f"{ref.name:<20} {kind:<9} {chain}")


@cli.command(cls=_Command, arguments=[("PROFILE", "Profile name.")])
@click.argument("profile")
@_profiles_dir_option()
@click.option("--format", "fmt", default="text", show_default=True, metavar="FORMAT",
              help="text (a table) or html (a page with bar charts of the requests at "
              "minimum and maximum scale against the quota and the node, and the connection "
              "budget).")
def explain(profile: str, profiles_dir: Path | None, fmt: str) -> None:
    """Print every component's replicas, requests, limits and storage, with totals.

    Also shows totals at minimum and maximum scale, the database connection budget, the
    derived settings, the quota, security exceptions and what Helm cannot carry.

    \b
    Examples:
      difygen explain small
      difygen explain production --format html > production.html
    """
    from generator import profile_load as prof
    from generator.plan import plan_for

    if fmt not in ("text", "html"):
        raise UsageError(f"--format {fmt!r}: choose text or html")
    plan = plan_for(prof.find(profile, profiles_dir))
    if fmt == "html":
        from generator.explain_html import explain_html

        click.echo(explain_html(plan), nl=False)
        return
    from generator.explain import explain as do_explain
    from generator.targets.helm import render_values

    click.echo(do_explain(plan, render_values(plan).gaps), nl=False)


@cli.command(cls=_Command, arguments=[
    ("NAME", "Name of the new profile (a DNS-1123 label).")])
@click.argument("name")
@click.option("--extends", default="small", show_default=True, metavar="PROFILE",
              help="Built-in profile to start from.")
@click.option("--profiles-dir", type=_DIR, default=Path("profiles.d"), show_default=True,
              metavar="DIR", help="Where to create it.")
def init(name: str, extends: str, profiles_dir: Path) -> None:
    """Scaffold a custom profile that extends a built-in one.

    The profile's first line names profile.schema.json, which init copies beside it, so
    YAML editors complete and check the keys (docs/profiles.md, "Editors").
    """
    from generator.scaffold import scaffold

    path, schemas = scaffold(name, extends, profiles_dir)
    for foreign in schemas.foreign:
        click.echo(f"note: {foreign} is not difygen's schema; left as it is (editors will "
                   "use it)", err=True)
    click.echo(f"created {path}; edit it, then run `difygen render {name} --profiles-dir "
               f"{profiles_dir}`")


@cli.command(cls=_Command, arguments=[
    ("TARGET...", "Profile names; with --manifests, files, directories or - for stdin.")])
@click.argument("targets", nargs=-1, metavar="[TARGET]...")
@click.option("--manifests", is_flag=True, help="Check Kubernetes YAML (e.g. `kubectl "
              "kustomize` output) instead of profiles.")
@click.option("--helm-values", is_flag=True,
              help="Merge Helm values files in the order of helm's -f flags (maps merge, "
              "lists and scalars replace) and report where a file after difygen's drops or "
              "changes derived settings (extraEnv pool sizes, worker counts).")
@click.option("--all", "all_", is_flag=True, help="Validate every built-in and custom "
              "profile.")
@click.option("--format", "fmt", metavar="FORMAT",
              help="text, json, junit or github (default: github when GITHUB_ACTIONS is "
              "set, else text).")
@click.option("--kube-version", metavar="X.Y",
              help="Kubernetes minor version of the schemas (default: the profile's, or "
              "1.35 for --manifests).")
@_profiles_dir_option()
@click.option("--exceptions", type=_FILE, metavar="FILE",
              help="With --manifests: a SecurityExceptions file declaring which images may "
              "run as root or add which capabilities (see docs/validate.md); only these and "
              "the catalog's exceptions are honoured, never a manifest's own annotation.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), metavar="N",
              help="With --manifests: processes that read a big file or stream (over 2 MiB), "
              "and run the rules on a big set (2,000 objects or more), side by side; the "
              "findings are the same with any number. Default: one per CPU, at most 4 "
              "(Linux; elsewhere 1).")
def validate(targets: tuple[str, ...], manifests: bool, helm_values: bool, all_: bool,
             fmt: str | None, kube_version: str | None, profiles_dir: Path | None,
             exceptions: Path | None, jobs: int | None) -> None:
    """Check profiles and the manifests they produce, or any Kubernetes YAML.

    Layers: the strict Kubernetes schemas, Pod Security Standards "restricted" and other
    policy (limits, probes, pinned images, no secret values, no service account tokens,
    sandboxes confined to their proxy by NetworkPolicies), and sizing consistency (DB
    connection budget at maximum scale, quota fit, Redis maxmemory, ReadWriteOnce
    sharing, node fit). Rules are documented in docs/rules.md.
    Exit 0 when clean (warnings allowed), 1 with errors, 2 for bad input (including an
    input that holds no Kubernetes object: an empty pipe never passes). A directory that
    holds kustomizations (difygen's output tree) is validated one overlay at a time.

    \b
    Examples:
      difygen validate small production
      kubectl kustomize output/kustomize/overlays/small | difygen validate --manifests -
      difygen validate --manifests output/ --format junit > report.xml
      difygen validate --helm-values output/helm/production/values.yaml my-values.yaml
    """
    from generator import report
    from generator.manifest_fast import default_jobs
    from generator.validate import combine, validate_manifests, validate_objects

    chosen = fmt or report.default_format(os.environ)
    if chosen not in report.FORMATS:
        raise UsageError(f"--format {chosen!r}: choose one of {', '.join(report.FORMATS)}")
    if jobs is not None and not manifests:
        raise UsageError("--jobs applies to --manifests (profiles render in memory)")
    if helm_values:
        from generator.helm_merge import check

        if manifests or all_:
            raise UsageError("--helm-values takes values files only (not --manifests or --all)")
        result = check([Path(t) for t in targets or []])
    elif manifests:
        if all_ or not targets:
            raise UsageError("--manifests needs files, directories or - (stdin)")
        stdin_text = _read_stdin() if "-" in targets else None
        result = validate_manifests(targets, kube_version or DEFAULT_KUBE,
                                    stdin_text=stdin_text, exceptions_file=exceptions,
                                    jobs=jobs or default_jobs(), keep_loaded=_LOADED,
                                    list_checked=chosen == "junit")
    else:
        if exceptions is not None:
            raise UsageError("--exceptions applies to --manifests; for profiles the "
                             "catalog declares the exceptions")
        from generator.manifest_loader import in_memory
        from generator.plan import plan_for
        from generator.render import at_profile_line, overlay_prefix
        from generator.targets.kustomize import render_overlay

        refs = _refs(list(targets), all_, profiles_dir, "validate",
                     ", or check Kubernetes YAML with --manifests PATH... (- for stdin) or "
                     "Helm values with --helm-values FILE...")
        # Each profile is its own deployment (often the same namespace name in different
        # clusters), so each is validated on its own and the findings are combined.
        results = []
        for ref in refs:
            plan = plan_for(ref)
            where = overlay_prefix(plan.name)
            objects = [in_memory(o, where) for o in render_overlay(plan).objects]
            found = validate_objects(objects, kube_version or plan.profile.kubernetes_version)
            # A finding a profile value caused points at that value (as `render` does).
            results.append(replace(found, findings=tuple(
                at_profile_line(f, plan, where) for f in found.findings)))
        result = combine(results)
    click.echo(report.render(result, chosen, _VERBOSITY), nl=False)
    sys.exit(result.exit_code)


def _read_stdin() -> str:
    """stdin as UTF-8, bad bytes reported by line and column like a file's."""
    from generator.manifest_loader import MAX_MANIFEST_BYTES, STDIN
    from generator.yamlio import decode

    raw = sys.stdin.buffer.read(MAX_MANIFEST_BYTES + 1)
    return decode(raw, STDIN, MAX_MANIFEST_BYTES)


@cli.command()
@_out_option()
@_profiles_dir_option()
@click.option("--fleet", type=_FILE, metavar="FILE",
              help="Compare with a fresh render of this fleet file instead of the profiles "
              "found in DIR.")
def check(out: Path, profiles_dir: Path | None, fleet: Path | None) -> None:
    """Re-render every profile that has output in DIR and compare with what is there.

    Exit 0 when identical; exit 3 with a unified diff when the committed output is stale
    (run `difygen render` and commit). Nothing is written.

    \b
    Examples:
      difygen check
      difygen check --out gitops/dify --profiles-dir profiles.d
      difygen check --fleet fleet.yaml --out gitops/dify
    """
    from generator import profile_load as prof
    from generator.check import compare
    from generator.render import RenderResult, orphan_units, orphans
    from generator.render import render as do_render
    from generator.writer import owned_names, resolve_out

    target = resolve_out(out)
    result: RenderResult
    if fleet is not None:
        from generator.fleet import render_fleet

        if profiles_dir is not None:
            raise UsageError("--fleet takes its profiles from the fleet file's profilesDir; "
                             "drop --profiles-dir")
        result = render_fleet(fleet)
        names = [f"--fleet {fleet}"]
        orphaned = orphans(target, {p.plan.name for p in result.profiles})
    else:
        found = owned_names(target)
        if not found:
            raise UsageError(f"{out}: no rendered profiles found (expected difygen's files "
                             "in kustomize/overlays/<profile>/); run `difygen render` first")
        known = {r.name for r in prof.discover(profiles_dir)}
        names = [n for n in found if n in known]
        orphaned = [n for n in found if n not in known]
        result = do_render([prof.find(n, profiles_dir) for n in names])
    drift = compare(result.files, target, (*result.managed, *orphan_units(orphaned)))
    if drift.stale:
        click.echo(drift.diff, nl=False)
    for name in orphaned:
        click.echo(f"orphaned: {out / 'kustomize/overlays' / name}: difygen's files for "
                   f"{name!r}, which is no profile{' or environment' if fleet else ''} "
                   "(renamed or deleted?); `difygen render --prune` removes them", err=True)
    for path in drift.kept:
        click.echo(f"kept (not difygen's, no generated-file header): {out / path}", err=True)
    if drift.stale:
        again = (f"--fleet {fleet}" if fleet is not None
                 else " ".join([*names, "--prune" if orphaned else ""]).strip())
        click.echo(f"{out}: stale ({len(drift.added)} missing, {len(drift.changed)} changed, "
                   f"{len(drift.removed)} unexpected); run `difygen render {again}` and "
                   "commit", err=True)
    elif _VERBOSITY >= 0:
        click.echo(f"{out}: up to date ({', '.join(names)})")
    sys.exit(drift.exit_code)


@cli.group(cls=_Group, no_args_is_help=True)
def schemas() -> None:
    """The pinned Kubernetes schemas, and difygen's own input schemas, for other tools and
    editors."""


@schemas.command("export", cls=_Command, arguments=[
    ("DIRECTORY", "Where to write the schema files.")])
@click.argument("directory", type=_DIR)
@click.option("--kube-version", default="1.35", show_default=True, metavar="X.Y",
              help="Kubernetes minor version.")
def schemas_export(directory: Path, kube_version: str) -> None:
    """Write the strict schemas as standalone files kubeconform accepts.

    \b
    Example:
      difygen schemas export k8s-schemas
      kubeconform -strict \\
        -schema-location 'k8s-schemas/{{ .ResourceKind }}{{ .KindSuffix }}.json' x.yaml
    """
    from generator.schemas_export import export_schemas

    written = export_schemas(kube_version, directory)
    click.echo(f"{directory}: wrote {len(written)} schemas for Kubernetes {kube_version}")


@schemas.command("editor", cls=_Command, arguments=[
    ("DIRECTORY", "Where to write profile.schema.json and fleet.schema.json.")])
@click.argument("directory", type=_DIR)
def schemas_editor(directory: Path) -> None:
    """Write the profile and fleet schemas for YAML editors (and check-jsonschema).

    Start a profile or fleet file with a line naming the copy, relative to the file:
    `# yaml-language-server: $schema=profile.schema.json`. A copy an older difygen wrote
    is refreshed; another file of the same name is left alone.

    \b
    Example:
      difygen schemas editor profiles.d
    """
    from generator.editor_schemas import write_editor_schemas

    copies = write_editor_schemas(directory)
    for path in copies.written:
        click.echo(f"wrote {path}")
    for path in copies.current:
        click.echo(f"{path}: up to date")
    for path in copies.foreign:
        click.echo(f"note: {path} is not difygen's schema; left as it is", err=True)


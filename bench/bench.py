"""How fast is difygen, measured the way a CI job runs it: whole processes, same files.

`make bench` (or `python bench/bench.py [--quick]`) prints every figure docs/validate.md
quotes:

  validate   `difygen validate --manifests FILE` on the three built-in overlays (the
             in-memory render, exactly what `kubectl kustomize` builds: quotas, HPAs,
             PDBs, PVCs, StatefulSets) repeated N times (100: 24,000 objects), once
             with every copy in one namespace and once with a namespace per overlay copy.
             Objects per second and peak RSS of the whole process (start-up, parsing,
             garbage collection, every rule, the report), median of several runs after
             one warm-up run, with bytecode cached as an installed difygen has it; with
             the default --jobs (one process per CPU, at most 4) and with --jobs 1. Peak
             RSS is the largest of the process and the children it forks. Then the
             namespace-per-copy file with a label per copy on every object: no document
             is another's copy but for its namespace, so every one is parsed and judged.
  peers      `kubeconform -strict` (when found on PATH or in
             ${XDG_CACHE_HOME:-~/.cache}/difygen-engines/) with the schemas `difygen
             schemas export` writes, side by side on the same whole file; and
             `kubernetes-validate --strict`, which takes minutes per thousand objects, on
             a slice (`--peer-copies`, default 10 copies) with difygen timed on that same
             slice for the ratio.
  start-up   `difygen --version` against a bare `python -c pass`.
  render     `difygen render --all` against `kubectl kustomize` + `kubernetes-validate
             --strict` on the three overlays (the hand-rolled gate).
  fleet      `difygen render --fleet` of 500 environments (72 distinct sizings, and one
             shared sizing), writes included.

No figure is asserted anywhere: timings belong here, not in tests.
"""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

KUBE = "1.35"


def _tool(name: str) -> str | None:
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    return shutil.which(name, path=search)


def _kubeconform() -> str | None:
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    engines = cache / "difygen-engines"
    # `make engines` installs it as kubeconform-<version>/kubeconform.
    for candidate in (engines / "kubeconform", engines / "bin" / "kubeconform",
                      *sorted(engines.glob("kubeconform-*/kubeconform"), reverse=True)):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("kubeconform")


# As an installed difygen runs: with its bytecode cached. A development shell that sets
# PYTHONDONTWRITEBYTECODE would otherwise time the compilation of every module.
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


# CPU seconds (user + system) of the last median_run, by command: on a shared machine the
# wall time includes waiting for a core, so both are printed.
CPU: dict[tuple[str, ...], float] = {}
_LAST_CPU = [0.0]


def run(command: Sequence[str]) -> tuple[float, int, int]:
    """Wall seconds, peak RSS (KiB) and exit code of one whole process."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    _LAST_CPU[0] = usage.ru_utime + usage.ru_stime
    return seconds, int(usage.ru_maxrss), proc.returncode



def median_run(command: Sequence[str], repeat: int) -> tuple[float, int]:
    run(command)  # warm-up, not counted: bytecode written, files in the page cache
    runs = []
    cpu = []
    for _ in range(repeat):
        runs.append(run(command))
        cpu.append(_LAST_CPU[0])
    CPU[tuple(command)] = statistics.median(cpu)
    return statistics.median(r[0] for r in runs), max(r[1] for r in runs)


def write_overlay_copies(path: Path, copies: int, shared: bool, labelled: bool = False
                         ) -> int:
    """The three built-in overlays' objects `copies` times; namespace `dify` for all
    (shared: every copy repeats the first, so every object after the first copy is a
    duplicate finding) or `dify-<overlay>-NNN` for each overlay's copy (each copy an
    environment of its own, as in a GitOps repository). `labelled`: every object of a
    copy also carries a label naming the copy, so that no document is a copy of another
    but for its namespace (difygen reads such copies from the first one's data) and
    every document is parsed. Returns the number of objects."""
    from generator import profile_load
    from generator.plan import plan_for
    from generator.targets.kustomize import render_overlay
    from generator.yamlio import dump_yaml

    overlays = [render_overlay(plan_for(profile_load.find(name, None))).objects
                for name in ("edge", "small", "production")]
    docs: list[str] = []
    for i in range(copies):
        for overlay, objects in zip(("edge", "small", "production"), overlays, strict=True):
            namespace = "dify" if shared else f"dify-{overlay}-{i:03d}"
            for obj in objects:
                obj = copy.deepcopy(obj)
                if obj["kind"] == "Namespace":
                    obj["metadata"]["name"] = namespace
                else:
                    obj["metadata"]["namespace"] = namespace
                if labelled:
                    obj["metadata"].setdefault("labels", {})["bench.example.com/copy"] = \
                        f"c{i:03d}"
                docs.append(dump_yaml(obj))
    path.write_text("---\n".join(docs), encoding="utf-8")
    return len(docs)


def _write_apart(path: Path, copies: int, shared: bool, labelled: bool = False) -> int:
    """write_overlay_copies in a child process. A child's peak RSS counts the memory of
    the process it was forked from (Linux keeps ru_maxrss across exec), so this process
    must stay small: rendering here would lend its memory to every peer's figure."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import bench; "
            "print(bench.write_overlay_copies(__import__('pathlib').Path(sys.argv[2]), "
            "int(sys.argv[3]), sys.argv[4] == 'shared', sys.argv[5] == 'labelled'))")
    out = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(path),
                          str(copies), "shared" if shared else "distinct",
                          "labelled" if labelled else "plain"],
                         check=True, capture_output=True, text=True, env=_ENV).stdout
    return int(out.split()[-1])


def bench_validate(tmp: Path, copies: int, peer_copies: int, repeat: int) -> None:
    difygen = _tool("difygen")
    assert difygen, "difygen is not installed in this environment"
    kv, kc = _tool("kubernetes-validate"), _kubeconform()
    schemas = tmp / "schemas"
    if kc:
        subprocess.run([difygen, "schemas", "export", str(schemas), "--kube-version", KUBE],
                       check=True, capture_output=True)
    rates: dict[str, float] = {}
    for shared in (False, True):
        label = "one namespace" if shared else "namespace per copy"
        path = tmp / f"overlays-{'shared' if shared else 'distinct'}.yaml"
        count = _write_apart(path, copies, shared)
        size = path.stat().st_size / 1e6
        ours_command = [difygen, "validate", "--manifests", str(path)]
        seconds, rss = median_run(ours_command, repeat)
        cpu = CPU[tuple(ours_command)]
        rates[label] = count / seconds
        print(f"validate, {label}: {count} objects ({size:.1f} MB): {seconds:.2f} s, "
              f"{count / seconds:.0f} objects/s, peak RSS {rss / 1024:.0f} MB "
              f"(median of {repeat}; --jobs default: {_default_jobs()}); CPU {cpu:.2f} s, "
              f"{count / cpu:.0f} objects per CPU second")
        one = [*ours_command, "--jobs", "1"]
        alone, alone_rss = median_run(one, repeat)
        print(f"  one process (--jobs 1): {alone:.2f} s, {count / alone:.0f} objects/s, "
              f"peak RSS {alone_rss / 1024:.0f} MB, CPU {CPU[tuple(one)]:.2f} s")
        peer_path = tmp / f"peer-{'shared' if shared else 'distinct'}.yaml"
        peer_count = _write_apart(peer_path, peer_copies, shared)
        ours, _ = median_run([difygen, "validate", "--manifests", str(peer_path)], repeat)
        print(f"  same {peer_count}-object slice: difygen {peer_count / ours:.0f} objects/s")
        if kv:
            theirs, rss = median_run([kv, "--strict", "-k", f"{KUBE}.0", "--quiet",
                                      str(peer_path)], 1)
            print(f"  kubernetes-validate --strict: {peer_count / theirs:.0f} objects/s, "
                  f"peak RSS {rss / 1024:.0f} MB; difygen is {theirs / ours:.1f}x faster")
        else:
            print("  kubernetes-validate: not installed")
        if kc:
            # kubeconform is fast enough for the whole file: side by side on it.
            command = [kc, "-strict", "-summary", "-schema-location",
                       f"{schemas}/{{{{ .ResourceKind }}}}{{{{ .KindSuffix }}}}.json"]
            full, kc_rss = median_run([*command, str(path)], repeat)
            kc_cpu = CPU[(*command, str(path))]
            print(f"  kubeconform -strict, same {count} objects: {count / full:.0f} "
                  f"objects/s, peak RSS {kc_rss / 1024:.0f} MB, CPU {kc_cpu:.2f} s; "
                  f"difygen takes {seconds / full:.2f}x its time, {cpu / kc_cpu:.2f}x its "
                  "CPU")
        else:
            print("  kubeconform: not found (PATH or ~/.cache/difygen-engines/)")
    distinct, shared_rate = rates["namespace per copy"], rates["one namespace"]
    print(f"validate, one namespace vs namespace per copy: {distinct / shared_rate:.2f}x "
          "the time")
    # The file above but for a label per copy: no document is another's copy in another
    # namespace, so this is the rate at which documents are parsed.
    path = tmp / "overlays-labelled.yaml"
    count = _write_apart(path, copies, False, labelled=True)
    command = [difygen, "validate", "--manifests", str(path)]
    seconds, rss = median_run(command, repeat)
    print(f"validate, namespace and a label per copy (every document parsed): {count} "
          f"objects ({path.stat().st_size / 1e6:.1f} MB): {seconds:.2f} s, "
          f"{count / seconds:.0f} objects/s, peak RSS {rss / 1024:.0f} MB (median of "
          f"{repeat}); CPU {CPU[tuple(command)]:.2f} s")


def _default_jobs() -> int:
    """difygen's default --jobs here, asked of a child (see _write_apart: this process
    stays small)."""
    code = "from generator.manifest_fast import default_jobs; print(default_jobs())"
    return int(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                              text=True, env=_ENV).stdout)


def bench_startup(repeat: int) -> None:
    difygen = _tool("difygen")
    assert difygen
    ours, _ = median_run([difygen, "--version"], repeat)
    bare, _ = median_run([sys.executable, "-c", "pass"], repeat)
    print(f"start-up: difygen --version {ours * 1000:.0f} ms; bare python {bare * 1000:.0f} ms")


def bench_render(tmp: Path, repeat: int) -> None:
    difygen, kubectl, kv = _tool("difygen"), _tool("kubectl"), _tool("kubernetes-validate")
    if not (difygen and kubectl and kv):
        print("render: kubectl or kubernetes-validate not installed")
        return
    out = tmp / "render"
    ours, rss = median_run([difygen, "render", "--all", "--out", str(out)], repeat)
    start = time.perf_counter()
    for name in ("edge", "small", "production"):
        built = subprocess.run([kubectl, "kustomize", str(out / "kustomize" / "overlays" /
                                                          name)],
                               check=True, capture_output=True, text=True).stdout
        path = tmp / f"{name}.yaml"
        path.write_text(built, encoding="utf-8")
        subprocess.run([kv, "--strict", "-k", f"{KUBE}.0", "--quiet", str(path)],
                       check=False, capture_output=True)
    theirs = time.perf_counter() - start
    print(f"render --all: {ours:.2f} s (peak RSS {rss / 1024:.0f} MB); kubectl kustomize + "
          f"kubernetes-validate --strict on the 3 overlays: {theirs:.2f} s; difygen takes "
          f"{ours / theirs:.2f}x the peer pipeline's time")


def write_fleet(root: Path, environments: int, sizings: int) -> Path:
    """`environments` environments over the built-in profiles, in `sizings` distinct
    sizings (storage classes differ between sizings; names, namespaces, hosts and
    clusters differ between every environment)."""
    root.mkdir(parents=True, exist_ok=True)
    lines = ["repoURL: https://git.example.com/gitops.git", "argocd: {}",
             "flux: {sourceRef: {name: gitops}}", "environments:"]
    for i in range(environments):
        variant = i % sizings
        lines += [f"  - name: env-{i:04d}", "    profile: small",
                  f"    namespace: dify-{i:04d}", f"    hosts: [env-{i:04d}.example.com]",
                  f"    storageClass: sc-{variant:03d}"]
        if i % 3 == 0:
            lines.append(f"    cluster: {{server: 'https://c{i % 5}.example.com'}}")
    path = root / "fleet.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def bench_fleet(tmp: Path, environments: int, repeat: int) -> None:
    """Each run renders into a fresh directory, and nothing is deleted until every run is
    done: on a file system mounted with `discard` (this machine's), creating thousands
    of files right after deleting thousands is several times slower, which would time
    the previous run's clean-up rather than difygen."""
    difygen = _tool("difygen")
    assert difygen
    for sizings in (72, 1):
        fleet = write_fleet(tmp / f"fleet-{sizings}", environments, sizings)
        times = []
        rss = 0
        for n in range(repeat):
            out = tmp / f"fleet-out-{sizings}-{n}"
            seconds, peak, code = run([difygen, "render", "--fleet", str(fleet), "--out",
                                       str(out)])
            if code != 0:
                print(f"fleet: render failed (exit {code})")
                return
            times.append(seconds)
            rss = max(rss, peak)
        files = [p for p in out.rglob("*") if p.is_file()]
        print(f"fleet, {environments} environments, {sizings} distinct sizing(s): "
              f"{statistics.median(times):.2f} s with writes ({len(files)} files), peak RSS "
              f"{rss / 1024:.0f} MB (median of {repeat}; runs "
              f"{', '.join(f'{t:.2f}' for t in times)} s)")
    floor = [_create_files(tmp / f"floor-{n}", out, files) for n in range(repeat)]
    print(f"  creating the same {len(files)} files alone (a bare Python loop, no render): "
          f"{statistics.median(floor):.2f} s (median of {repeat})")


def _create_files(root: Path, rendered: Path, files: list[Path]) -> float:
    """Seconds to create `files` (with their directories and bytes) under `root`."""
    contents = [(str(root / p.relative_to(rendered)), p.read_bytes()) for p in files]
    start = time.perf_counter()
    for path, data in contents:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, data)
        os.close(fd)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="10 copies, 100 environments, one run each")
    parser.add_argument("--copies", type=int, default=None)
    parser.add_argument("--peer-copies", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--only", choices=("validate", "startup", "render", "fleet"))
    args = parser.parse_args(argv)
    copies = args.copies or (10 if args.quick else 100)
    peer_copies = args.peer_copies or (2 if args.quick else 10)
    repeat = args.repeat or (1 if args.quick else 3)
    environments = 100 if args.quick else 500
    print(f"machine: {os.cpu_count()} CPUs, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}; Python "
          f"{sys.version.split()[0]}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.only in (None, "validate"):
            bench_validate(tmp, copies, peer_copies, repeat)
        if args.only in (None, "startup"):
            bench_startup(max(repeat, 5))
        if args.only in (None, "render"):
            bench_render(tmp, repeat)
        if args.only in (None, "fleet"):
            bench_fleet(tmp, environments, repeat)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

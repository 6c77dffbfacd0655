"""The real engines the engine tests run, built from the Go module proxy and cached by version.

    python tests/engines/tools.py            # build whatever is missing (what `make engines` runs)
    python tests/engines/tools.py --where    # print the cache directory

Nothing built here is committed: binaries live in
``${DIFYGEN_ENGINES_CACHE:-${XDG_CACHE_HOME:-~/.cache}/difygen-engines}/<name>-<key>/``, where the
key is the pinned version (and, for the control plane, a hash of our Go module), so only the
first build on a machine pays. A build writes into a temporary directory and renames it into
place, under a file lock, so concurrent test runs never see half a build.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
CONTROLPLANE_MODULE = HERE / "controlplane"

# Pinned versions. Kubernetes itself is pinned in controlplane/go.mod (k8s.io/kubernetes and
# every staging module); tests check its minor is difygen's DEFAULT_KUBERNETES_VERSION.
KUBECONFORM_VERSION = "v0.7.0"
KWOK_VERSION = "v0.7.0"
# mikefarah's yq, the `yq` of docs/migrations.md's kubectl procedure, which the tests run as
# written. (v4.54 needs a go.yaml.in/yaml/v4 release candidate the module proxy does not serve.)
YQ_VERSION = "v4.47.2"
CONTROLPLANE_BINARIES = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
# kube-apiserver, -controller-manager and -scheduler are tools of the module (go.mod `tool`
# lines); etcd is our four-line main around etcd's own etcdmain.
_CONTROLPLANE_PACKAGES = (
    "k8s.io/kubernetes/cmd/kube-apiserver",
    "k8s.io/kubernetes/cmd/kube-controller-manager",
    "k8s.io/kubernetes/cmd/kube-scheduler",
    "./cmd/etcd",
)
# Smaller and faster to link: no symbol tables, no absolute paths.
_GOFLAGS = "-trimpath"
_LDFLAGS = "-s -w"


class EngineUnavailable(RuntimeError):
    """An engine could not be found or built; the message says why (the tests fail with it)."""


def cache_root() -> Path:
    explicit = os.environ.get("DIFYGEN_ENGINES_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "difygen-engines"


def kubernetes_version() -> str:
    """The k8s.io/kubernetes release our Go module requires, e.g. 'v1.35.4'."""
    text = (CONTROLPLANE_MODULE / "go.mod").read_text(encoding="utf-8")
    found = re.search(r"^\s*(?:require\s+)?k8s\.io/kubernetes\s+(v\S+)", text, re.MULTILINE)
    if not found:
        raise EngineUnavailable(f"{CONTROLPLANE_MODULE / 'go.mod'}: no k8s.io/kubernetes require")
    return found.group(1)


# A machine without Go gets this toolchain from the module proxy (it is the Go module
# golang.org/toolchain, what GOTOOLCHAIN=auto downloads), checked against its go.sum hash.
GO_TOOLCHAIN = "go1.26.8"
_GO_TOOLCHAIN_SUMS = {
    "linux-amd64": "h1:ZOmGe1OnfREDMIdb1Qi4G9JSuDPBLGExZMQ4nis1RXM=",
    "linux-arm64": "h1:sYL/O6MqS68ML0kjsQ36WoYIpJqkw60TxizWUYUKQMc=",
}


def go_binary() -> str:
    """A Go toolchain: $DIFYGEN_GO, `go` on PATH, /usr/local/go, or one fetched into the cache."""
    for candidate in (os.environ.get("DIFYGEN_GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return str(_fetched_toolchain())


def _fetched_toolchain() -> Path:
    machine = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(os.uname().machine)
    platform = f"linux-{machine}"
    if sys.platform != "linux" or platform not in _GO_TOOLCHAIN_SUMS:
        raise EngineUnavailable(f"no Go toolchain on this {sys.platform}/{os.uname().machine} "
                                "machine: install Go >= 1.21 or set DIFYGEN_GO")
    version = f"v0.0.1-{GO_TOOLCHAIN}.{platform}"
    target = cache_root() / f"go-{GO_TOOLCHAIN}.{platform}"
    if (target / ".complete").is_file():
        return target / "bin" / "go"
    with _locked("go"):
        if (target / ".complete").is_file():
            return target / "bin" / "go"
        proxy = os.environ.get("GOPROXY", "https://proxy.golang.org").split(",")[0].split("|")[0]
        if proxy in ("direct", "off"):
            proxy = "https://proxy.golang.org"
        url = f"{proxy.rstrip('/')}/golang.org/toolchain/@v/{version}.zip"

        def fetch(tmp: Path) -> None:
            archive = tmp / "toolchain.zip"
            try:
                with urllib.request.urlopen(url, timeout=600) as answer, \
                        open(archive, "wb") as out:
                    shutil.copyfileobj(answer, out)
            except OSError as error:
                raise EngineUnavailable(f"no Go toolchain, and fetching {url} failed: "
                                        f"{error}") from error
            with zipfile.ZipFile(archive) as bundle:
                found = _zip_hash(bundle)
                if found != _GO_TOOLCHAIN_SUMS[platform]:
                    raise EngineUnavailable(f"{url}: hash {found}, expected "
                                            f"{_GO_TOOLCHAIN_SUMS[platform]}")
                prefix = f"golang.org/toolchain@{version}/"
                for entry in bundle.infolist():
                    if entry.is_dir() or not entry.filename.startswith(prefix):
                        continue
                    dest = tmp / entry.filename[len(prefix):]
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    with bundle.open(entry) as src, open(dest, "wb") as out:
                        shutil.copyfileobj(src, out)
                    # Module zips carry no modes: what Go's own toolchain switch marks
                    # executable.
                    if dest.parent.name == "bin" or "/pkg/tool/" in entry.filename:
                        dest.chmod(0o755)
            archive.unlink()

        _build_into(target, fetch)
    return target / "bin" / "go"


def _zip_hash(bundle: zipfile.ZipFile) -> str:
    """The h1: hash go.sum records for a module zip (golang.org/x/mod/sumdb/dirhash)."""
    lines = []
    for name in sorted(bundle.namelist()):
        if name.endswith("/"):
            continue
        lines.append(f"{hashlib.sha256(bundle.read(name)).hexdigest()}  {name}\n")
    summary = hashlib.sha256("".join(lines).encode()).digest()
    return "h1:" + base64.b64encode(summary).decode()


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOTOOLCHAIN", "auto")
    env["GOFLAGS"] = (env.get("GOFLAGS", "") + " " + _GOFLAGS).strip()
    return env


def _run_go(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> None:
    command = [go_binary(), *args]
    done = subprocess.run(command, cwd=cwd, env=env or _go_env(), capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-25:])
        raise EngineUnavailable(f"`{' '.join(command)}` failed (exit {done.returncode}):\n{tail}")


@contextmanager
def _locked(name: str) -> Iterator[None]:
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build_into(target: Path, build: Callable[[Path], None]) -> None:
    """Run build(tmpdir) and move the result to target atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        build(tmp)
        (tmp / ".complete").write_text("ok\n", encoding="utf-8")
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _go_install(name: str, package: str, version: str, binary: str) -> Path:
    target = cache_root() / f"{name}-{version}"
    path = target / binary
    if (target / ".complete").is_file():
        return path
    with _locked(name):
        if (target / ".complete").is_file():
            return path

        def build(tmp: Path) -> None:
            env = _go_env()
            env["GOBIN"] = str(tmp)
            _run_go(["install", f"-ldflags={_LDFLAGS}", f"{package}@{version}"], env=env)

        _build_into(target, build)
    return path


def kubeconform() -> Path:
    return _go_install("kubeconform", "github.com/yannh/kubeconform/cmd/kubeconform",
                       KUBECONFORM_VERSION, "kubeconform")


def kwok() -> Path:
    return _go_install("kwok", "sigs.k8s.io/kwok/cmd/kwok", KWOK_VERSION, "kwok")


def yq() -> Path:
    return _go_install("yq", "github.com/mikefarah/yq/v4", YQ_VERSION, "yq")


def _controlplane_key() -> str:
    digest = hashlib.sha256()
    for path in sorted(CONTROLPLANE_MODULE.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(CONTROLPLANE_MODULE).as_posix().encode())
            digest.update(path.read_bytes())
    return f"{kubernetes_version()}-{digest.hexdigest()[:12]}"


def controlplane() -> dict[str, Path]:
    """etcd, kube-apiserver, kube-controller-manager, kube-scheduler; built once per key."""
    version = kubernetes_version()
    target = cache_root() / f"controlplane-{_controlplane_key()}"
    paths = {name: target / name for name in CONTROLPLANE_BINARIES}
    if (target / ".complete").is_file():
        return paths
    with _locked("controlplane"):
        if (target / ".complete").is_file():
            return paths
        major, minor = version.lstrip("v").split(".")[:2]
        # What `kube-apiserver --version` and /version report; the build tooling of
        # Kubernetes sets the same variables.
        stamp = " ".join(f"-X k8s.io/component-base/version.{key}={value}" for key, value in (
            ("gitVersion", version), ("gitMajor", major), ("gitMinor", minor),
            ("gitTreeState", "clean")))

        def build(tmp: Path) -> None:
            _run_go(["build", f"-ldflags={_LDFLAGS} {stamp}", "-o", str(tmp) + os.sep,
                     *_CONTROLPLANE_PACKAGES], cwd=CONTROLPLANE_MODULE)

        _build_into(target, build)
    return paths


def build_all() -> dict[str, float]:
    """Build every engine that is missing; seconds each took (0 when cached)."""
    timings: dict[str, float] = {}
    for name, step in (("kubeconform", kubeconform), ("kwok", kwok), ("yq", yq),
                       ("controlplane", controlplane)):
        started = time.monotonic()
        step()
        timings[name] = time.monotonic() - started
    return timings


def main(argv: list[str]) -> int:
    if argv[1:] == ["--where"]:
        print(cache_root())
        return 0
    try:
        timings = build_all()
    except EngineUnavailable as error:
        print(f"engines: {error}", file=sys.stderr)
        return 1
    for name, seconds in timings.items():
        print(f"engines: {name} ready in {seconds:.1f}s ({cache_root()})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

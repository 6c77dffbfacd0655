"""Two renders into one output directory at once never interleave.

Run A renders the built-in `small` and `edge`; run B renders a custom `small` (another
namespace, so every file of overlays/small differs) and `production`. Each owns its
profiles' overlays and values plus the shared base; the lock beside the target makes the
second wait and then write a complete tree on top of the first. The final tree is the
last writer's render for its prefixes, the first writer's for the prefixes only it owns,
and the user's own files untouched.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "generator"]


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def render(out: Path, *args: str) -> dict[str, bytes]:
    proc = subprocess.run([*CLI, "render", *args, "--out", str(out)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return tree(out)


@pytest.mark.slow
def test_concurrent_renders_never_interleave(tmp_path: Path) -> None:
    custom = tmp_path / "profiles"
    custom.mkdir()
    (custom / "small.yaml").write_text("extends: small\nnamespace: dify-b\n")
    args_a = ["small", "edge"]
    args_b = ["small", "production", "--profiles-dir", str(custom)]
    alone_a = render(tmp_path / "ref-a", *args_a)
    alone_b = render(tmp_path / "ref-b", *args_b)
    small = "kustomize/overlays/small/"
    assert {k: v for k, v in alone_a.items() if k.startswith(small)} != {
        k: v for k, v in alone_b.items() if k.startswith(small)}

    def final_when_last(last: dict[str, bytes], first: dict[str, bytes]) -> dict[str, bytes]:
        owned = {k.split("/")[0] + "/" + k.split("/")[1] + "/" + k.split("/")[2]
                 for k in last if k.startswith(("kustomize/overlays/", "helm/"))}
        merged = {k: v for k, v in first.items() if not k.startswith(tuple(owned))}
        merged.update(last)
        merged.update(user_files)
        return merged

    user_files = {"README.md": b"ours, not difygen's\n",
                  "kustomize/overlays/mine/kustomization.yaml": b"resources: []\n"}
    for attempt in range(5):
        out = tmp_path / f"out-{attempt}"
        for rel, data in user_files.items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(data)

        results: dict[str, subprocess.CompletedProcess[str]] = {}

        def go(label: str, args: list[str], out: Path = out,
               results: dict[str, subprocess.CompletedProcess[str]] = results) -> None:
            results[label] = subprocess.run([*CLI, "render", *args, "--out", str(out)],
                                            capture_output=True, text=True, timeout=300,
                                            check=False)

        threads = [threading.Thread(target=go, args=("a", args_a)),
                   threading.Thread(target=go, args=("b", args_b))]
        if attempt % 2:
            threads.reverse()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=400)
        for label in ("a", "b"):
            assert results[label].returncode == 0, results[label].stderr

        final = tree(out)
        a_last = final_when_last(alone_a, alone_b)
        b_last = final_when_last(alone_b, alone_a)
        assert final in (a_last, b_last), "the output mixes two renders"
        assert not list(tmp_path.glob(f".{out.name}.difygen-*"))
        assert not list(out.glob(".difygen-staging-*"))

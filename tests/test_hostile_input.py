"""Valid but unusual YAML and hostile values in profiles and fleet files, through the real
CLI: supported with positions, or refused with a positioned message, exit 2 and nothing
written; never "internal error". (Profile cases of the same kinds live in the negative
corpus, tests/cases/negative/.)"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "generator"]

# Runs the CLI with PyYAML's libyaml classes taken away, as on a PyYAML built without it.
_NO_LIBYAML = """
import sys, yaml
for name in ("CSafeLoader", "CSafeDumper", "CLoader", "CDumper", "CFullLoader",
             "CUnsafeLoader", "CBaseLoader", "CBaseDumper", "CParser", "CEmitter"):
    if hasattr(yaml, name):
        delattr(yaml, name)
yaml.__with_libyaml__ = False
sys.modules["yaml._yaml"] = None
sys.argv = ["difygen", *sys.argv[1:]]
from generator.cli import main
main()
"""


def run(*args: str | Path, cwd: Path | None = None,
        stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([*CLI, *map(str, args)], capture_output=True, timeout=300,
                          cwd=cwd, input=stdin, check=False)
    return subprocess.CompletedProcess(proc.args, proc.returncode,
                                       proc.stdout.decode("utf-8", "replace"),
                                       proc.stderr.decode("utf-8", "replace"))


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(root.rglob("*"))}


def refused(tmp_path: Path, args: list[str | Path], where: str, fragment: str) -> None:
    """exit 2, a message at `where` (file:line:col: key.path) with `fragment`, and the
    whole directory byte for byte as before."""
    before = snapshot(tmp_path)
    proc = run(*args, cwd=tmp_path)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert f"{where}: " in proc.stderr, proc.stderr
    assert fragment in proc.stderr, proc.stderr
    assert snapshot(tmp_path) == before


# ---------------------------------------------------------------------------- fleets


FLEET_HEAD = "repoURL: https://git.example.com/gitops.git\nargocd: {enabled: true}\n"


@pytest.mark.parametrize(("body", "where", "fragment"), [
    ("environments:\n  - name: prod\n    profile: small\n    replicas: {web: 2.0}\n",
     "fleet.yaml:6:21: environments[0].replicas.web",
     "found 2.0 (number); expected integer or object (write 2, without the decimal point)"),
    ("environments:\n  - name: prod\n    profile: small\n    namespace: kube-system\n",
     "fleet.yaml:6:16: environments[0].namespace", "belongs to the cluster"),
    ("environments:\n  - {name: default, profile: small}\n",
     "fleet.yaml:4:12: environments[0].name",
     "(an environment's namespace defaults to its name)"),
    ("environments:\n  - name: prod\n    profile: small\n    cluster:\n"
     "      server: https://k8s.example.com:6443/?token=abc\n",
     "fleet.yaml:7:15: environments[0].cluster.server", "query parameter 'token'"),
    ("environments:\n  - {name: prod, profile: small}\n  - name: x\n    profile: small\n"
     "    namespace: kube-flannel\n", "fleet.yaml:7:16: environments[1].namespace",
     "belongs to the cluster"),
])
def test_bad_fleet_values_are_refused_with_a_position(tmp_path: Path, body: str, where: str,
                                                      fragment: str) -> None:
    (tmp_path / "fleet.yaml").write_text(FLEET_HEAD + body)
    refused(tmp_path, ["render", "--fleet", "fleet.yaml", "--out", "out"], where, fragment)


@pytest.mark.parametrize("url", [
    "https://deploy:hunter2xyz@git.example.com/gitops.git",
    "https://ghp_hunter2xyz@git.example.com/gitops.git",
    "https://git.example.com/gitops.git?private_token=hunter2xyz",
    "deploy:hunter2xyz@git.example.com:platform/gitops.git",
])
def test_credentials_in_repo_url_are_refused_and_never_echoed(tmp_path: Path, url: str) -> None:
    (tmp_path / "fleet.yaml").write_text(
        f"repoURL: '{url}'\nargocd: {{enabled: true}}\n"
        "environments:\n  - {name: prod, profile: small}\n")
    refused(tmp_path, ["render", "--fleet", "fleet.yaml", "--out", "out"],
            "fleet.yaml:1:10: repoURL", "it would be copied into the committed output")
    proc = run("render", "--fleet", "fleet.yaml", "--out", "out", cwd=tmp_path)
    assert "hunter2xyz" not in proc.stderr


def test_a_url_in_any_value_is_checked_not_only_known_keys(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(
        "description: 'docs at https://admin:hunter2@wiki.example.com/dify'\n" + FLEET_HEAD
        + "environments:\n  - {name: prod, profile: small}\n")
    refused(tmp_path, ["render", "--fleet", "fleet.yaml", "--out", "out"],
            "fleet.yaml:1:14: description", "has credentials in it")


def test_ssh_remote_with_git_user_is_fine(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(
        "repoURL: git@git.example.com:platform/gitops.git\nargocd: {enabled: true}\n"
        "environments:\n  - {name: prod, profile: edge}\n")
    proc = run("render", "--fleet", "fleet.yaml", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr


# ---------------------------------------------------------------------------- profiles


def test_merge_keys_anywhere_render_like_the_expanded_profile(tmp_path: Path) -> None:
    merged = tmp_path / "merged"
    expanded = tmp_path / "expanded"
    merged.mkdir()
    expanded.mkdir()
    (merged / "team.yaml").write_text(
        "extends: small\n"
        "resourceQuota: &quota {enabled: true, headroomPercent: 30}\n"
        "components:\n"
        "  api:\n"
        "    resources:\n"
        "      requests: &api {cpu: 500m, memory: 1Gi}\n"
        "      limits:\n"
        "        <<: *api\n"
        "        memory: 2Gi\n"
        "  worker:\n"
        "    <<: {replicas: 2}\n"
        "    resources:\n"
        "      <<: [{requests: *api}, {limits: {cpu: '1', memory: 2Gi}}]\n")
    (expanded / "team.yaml").write_text(
        "extends: small\n"
        "resourceQuota: {enabled: true, headroomPercent: 30}\n"
        "components:\n"
        "  api:\n"
        "    resources:\n"
        "      requests: {cpu: 500m, memory: 1Gi}\n"
        "      limits: {cpu: 500m, memory: 2Gi}\n"
        "  worker:\n"
        "    replicas: 2\n"
        "    resources:\n"
        "      requests: {cpu: 500m, memory: 1Gi}\n"
        "      limits: {cpu: '1', memory: 2Gi}\n")
    for directory in (merged, expanded):
        proc = run("render", "team", "--profiles-dir", directory, "--out", directory / "out")
        assert proc.returncode == 0, proc.stderr
    assert snapshot(merged / "out") == snapshot(expanded / "out")


def test_non_utf8_on_stdin_is_refused_with_a_position(tmp_path: Path) -> None:
    before = snapshot(tmp_path)
    proc = run("validate", "--manifests", "-", cwd=tmp_path,
               stdin=b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: caf\xe9}\n")
    assert proc.returncode == 2, proc.stderr
    assert "<stdin>:3:21: byte 0xe9 is not valid UTF-8" in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr
    assert snapshot(tmp_path) == before


def test_without_libyaml_everything_works_and_renders_the_same_bytes(tmp_path: Path) -> None:
    ref = tmp_path / "ref"
    assert run("render", "edge", "small", "--out", ref).returncode == 0
    out = tmp_path / "pure"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def pure(*args: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-c", _NO_LIBYAML, *map(str, args)],
                              capture_output=True, timeout=600, input=stdin, env=env,
                              check=False)

    proof = subprocess.run([sys.executable, "-c", _NO_LIBYAML.split("sys.argv")[0]
                            + "import generator.yamlio, generator.manifest_loader\n"
                            "import generator.fleet\n"
                            "assert not hasattr(yaml, 'CSafeLoader')\n"
                            "print(generator.manifest_loader._Loader.__mro__[1].__name__)\n"],
                           capture_output=True, text=True, timeout=120, env=env, check=False)
    assert proof.stdout.strip() == "SafeLoader", proof.stderr

    proc = pure("render", "edge", "small", "--out", out)
    assert proc.returncode == 0, proc.stderr.decode()
    assert snapshot(out) == snapshot(ref)
    assert pure("check", "--out", out).returncode == 0
    manifest = (ref / "kustomize/base/api.yaml").read_bytes()
    checked = pure("validate", "--manifests", "-", stdin=manifest)
    assert checked.returncode in (0, 1), checked.stderr.decode()
    assert b"internal error" not in checked.stderr
    bad = tmp_path / "profiles"
    bad.mkdir()
    (bad / "x.yaml").write_text("extends: small\nnamespace: default\n")
    refusal = pure("render", "x", "--profiles-dir", bad, "--out", tmp_path / "nothing")
    assert refusal.returncode == 2
    assert b"x.yaml:2:12: namespace: found 'default'" in refusal.stderr
    assert not (tmp_path / "nothing").exists()


def test_validate_places_a_profile_caused_finding_at_the_profile_line(tmp_path: Path) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "tiny.yaml").write_text(
        "description: a node too small\nextends: edge\nnode:\n  cpu: '1'\n  memory: 16Gi\n")
    proc = run("validate", "tiny", "--profiles-dir", profiles, cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert ("profiles/tiny.yaml:4:8: [error] node.cpu: requests.cpu at maximum scale"
            in proc.stdout), proc.stdout
    assert "(in kustomize/overlays/tiny ConfigMap/difygen-node: data.cpu) (node-fit)" \
        in proc.stdout
    # a finding no profile value drives stays at the rendered object
    assert "kustomize/overlays/tiny:1:1: [warning]" in proc.stdout


def test_merge_keys_in_a_fleet_file_with_positions(tmp_path: Path) -> None:
    (tmp_path / "fleet.yaml").write_text(
        "environments:\n"
        "  - &e {name: one, profile: edge, storageClass: fast}\n"
        "  - {<<: *e, name: two, replicas: {nginx: 2}}\n"
        "  - <<: *e\n"
        "    name: three\n"
        "    namespace: kube-system\n")
    refused(tmp_path, ["render", "--fleet", "fleet.yaml", "--out", "out"],
            "fleet.yaml:6:16: environments[2].namespace", "belongs to the cluster")
    (tmp_path / "fleet.yaml").write_text(
        (tmp_path / "fleet.yaml").read_text().replace("kube-system", "dify-three"))
    proc = run("render", "--fleet", "fleet.yaml", "--out", "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for env in ("one", "two", "three"):
        pvc = (tmp_path / f"out/kustomize/overlays/{env}/patches/"
               "persistentvolumeclaim-dify-storage.yaml").read_text()
        assert "storageClassName: fast" in pvc, env


def _exact_depth(text: str) -> int:
    """The deepest nesting libyaml's parser sees: the oracle for the cheap bounds."""
    import yaml

    depth = deepest = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            deepest = max(deepest, depth)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
    return deepest


@pytest.mark.parametrize("text", [
    "a: " + "[" * 205 + "]" * 205 + "\n",  # flow, few openers in all
    "a: " + "{b: " * 210 + "1" + "}" * 210 + "\n",
    "".join(" " * i + f"k{i}:\n" for i in range(205)) + " " * 205 + "v: 1\n",  # block
    "- " * 205 + "x\n",  # a run of dashes at the very start of the text
    "a: b\n" + "? " * 205 + "x\n",  # complex keys, a run of `?` after a newline
    "é: " + "[" * 205 + "]" * 205 + "\n",  # non-ASCII text
    "c: é\n" + "".join(" " * i + f"k{i}:\n" for i in range(205)) + " " * 205 + "v: 1\n",
    # More than MAX_DEPTH openers in all (the running balance is taken), then deep block.
    "l: [" + "[], " * 250 + "[]]\n" + "".join(" " * i + f"k{i}:\n" for i in range(205))
    + " " * 205 + "v: 1\n",
    # Closers in a string before the deep flow: a running balance of brackets would sit
    # below zero and miss it.
    "x: '" + "]" * 300 + "'\ny: " + "[" * 250 + "]" * 250 + "\n",
    # Flow inside a block deep enough that neither alone passes MAX_DEPTH.
    "".join(" " * i + f"k{i}:\n" for i in range(150)) + " " * 150 + "v: " + "[" * 60
    + "]" * 60 + "\n",
    # The same two in a later document of a file with many.
    "a: 1\n---\n" * 3 + "x: '" + "}" * 300 + "'\ny: " + "{a: " * 250 + "1" + "}" * 250
    + "\n",
])
def test_the_cheap_nesting_bounds_never_miss_a_too_deep_document(text: str) -> None:
    """_too_deep answers None without parsing only when the bounds prove the nesting is
    within MAX_DEPTH; every text here is deeper, and must be caught."""
    from generator.manifest_loader import MAX_DEPTH, _too_deep

    assert _exact_depth(text) > MAX_DEPTH
    assert _too_deep(text) is not None


def test_closers_in_a_string_do_not_let_a_deep_document_crash_validate(tmp_path: Path
                                                                        ) -> None:
    """100,000 levels behind 100,300 closers in a string: once past the pre-check, the
    parsers recursed until the process died (exit 139, no message)."""
    path = tmp_path / "deep.yaml"
    path.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata:\n"
                    "  x: \"" + "]" * 100_300 + "\"\n  y: " + "[" * 100_000 + "]" * 100_000
                    + "\n")
    proc = subprocess.run([sys.executable, "-m", "generator", "validate", "--manifests",
                           str(path)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert f"{path}:6:" in proc.stderr and "nesting is deeper than" in proc.stderr


def test_the_cheap_nesting_bounds_pass_an_ordinary_big_file() -> None:
    from generator.manifest_loader import _too_deep

    text = (Path(__file__).parent / "cases" / "manifests" / "negative" /
            "brief-example.yaml").read_text(encoding="utf-8")
    assert _too_deep("---\n".join([text] * 50)) is None


def test_only_documents_with_many_brackets_are_walked(monkeypatch: pytest.MonkeyPatch
                                                      ) -> None:
    """A ConfigMap holding a JSON dashboard has hundreds of braces: its document alone is
    walked event by event, not the whole file; a deep document is found at its line."""
    import generator.manifest_loader as loader

    walked: list[str] = []
    real = loader._deepest

    def deepest(text: str, line_offset: int, strict: bool = False
                ) -> tuple[int, int] | None:
        walked.append(text)
        return real(text, line_offset, strict)

    monkeypatch.setattr(loader, "_deepest", deepest)
    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    dashboard = plain + "data:\n  d.json: |\n    " + '{"a": [1], ' * 300 + "}" * 300 + "\n"
    text = "---\n".join([plain] * 20 + [dashboard] + [plain] * 20)
    assert loader._too_deep(text) is None
    assert walked == [dashboard]
    deep = plain + "data: {x: " + "[" * 250 + "]" * 250 + "}\n"
    walked.clear()
    text = "---\n".join([plain] * 3 + [deep])
    at = loader._too_deep(text)
    assert len(walked) == 1 and at is not None and at[0] == 3 * 4 + 4
    assert at == real(text, 0)  # the place a walk of the whole text finds


def test_the_fast_readers_nesting_check_proves_nothing_past_a_syntax_error() -> None:
    """A walk stopped by a syntax error libyaml finds (and rapidyaml may not) has not
    seen the documents after it: the fast reader's check (strict) answers that place,
    so the text goes to the slow path, which words the error; the check the slow path
    itself makes leaves the error to the loader."""
    from generator import manifest_fast
    from generator.manifest_loader import _too_deep

    plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    broken = plain + "data:\n  a: @x\n  d: |\n" + " " * 150 + "x\n"
    deep = plain + "data: {x: " + "[" * 250 + "]" * 250 + "}\n"
    text = "---\n".join([broken, deep])
    bounds = manifest_fast.document_bounds(text)
    assert _too_deep(text, bounds) is None
    assert _too_deep(text, bounds, strict=True) == (5, 6)
    assert _too_deep(text, bounds[1:], strict=True) is not None

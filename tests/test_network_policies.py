"""NetworkPolicies, judged by reachability on the overlays the real kustomize builds.

tests/netpol.py evaluates the built NetworkPolicies (not difygen's builder): for a source,
a destination and a port it answers whether the connection is allowed both ways. The
expectations here come from Dify's wiring, written out by hand, and from the env and
config files of the built pods themselves, so a policy and the wiring cannot drift apart
unnoticed.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.profile_load import BUILTIN_PROFILES, find
from generator.render import RenderResult, render
from generator.validate import validate_manifests
from generator.writer import write_tree
from tests.netpol import Address, Cluster, Pod, endpoints

Obj = dict[str, Any]
NS = "dify"
COMPONENT = "app.kubernetes.io/component"

KUBE_DNS = Pod("coredns", "kube-system", (("k8s-app", "kube-dns"),),
               (("dns", 53, "UDP"), ("dns-tcp", 53, "TCP")), "10.244.200.10")
INGRESS_NGINX = Pod("ingress-nginx-controller", "ingress-nginx",
                    (("app.kubernetes.io/name", "ingress-nginx"),), (("http", 80, "TCP"),),
                    "10.244.200.20")
TRAEFIK = Pod("traefik", "kube-system", (("app.kubernetes.io/name", "traefik"),),
              (("web", 8000, "TCP"),), "10.244.200.21")
STRANGER = Pod("stranger", "tenant", (("app", "stranger"),), (("http", 8080, "TCP"),),
               "10.244.200.30")
EXTRA_PODS = (KUBE_DNS, INGRESS_NGINX, TRAEFIK, STRANGER)
INTERNET = (Address("8.8.8.8"), Address("2001:4860:4860::8888"))
METADATA = (Address("169.254.169.254"), Address("fd00:ec2::254"))
INTERNAL = (Address("10.96.0.1"), Address("172.20.0.5"), Address("192.168.1.10"),
            Address("100.64.0.1"), Address("127.0.0.1"))
ADDRESSES = (*INTERNET, *METADATA, *INTERNAL)
PROBE_PORTS = (22, 53, 80, 443, 3128, 5003, 5432, 6379, 8080, 10250)

# Who talks to the datastores, from Dify's compose and our wiring: the dify-api image
# (api, websocket, worker, beat: DB_*, REDIS_*, WEAVIATE_*), the plugin daemon (its own
# database and Redis) and agent-backend (DIFY_AGENT_REDIS_URL).
API_IMAGE = {"api", "api-websocket", "worker", "worker-beat"}
CLIENTS = {
    # "migration" is the migration Job: the api image with the api's configuration.
    "postgres": API_IMAGE | {"plugin-daemon", "migration"},
    "redis": API_IMAGE | {"plugin-daemon", "agent-backend", "migration"},
    "weaviate": API_IMAGE | {"migration"},
}
# Who reaches the internet, and why (docs/network-policies.md): api and worker call the
# marketplace, mail, storage directly; plugins call model providers; the proxy is the exit.
INTERNET_USERS = {"api", "worker", "plugin-daemon", "ssrf-proxy", "agent-ssrf-proxy"}


def build(kubectl: str, overlay: Path) -> list[Obj]:
    proc = subprocess.run([kubectl, "kustomize", str(overlay)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def built_overlays(result: RenderResult, root: Path, kubectl: str) -> dict[str, list[Obj]]:
    out = root / "output"
    write_tree(out, result.files, result.managed)
    return {p.plan.name: build(kubectl, out / "kustomize" / "overlays" / p.plan.name)
            for p in result.profiles}


@pytest.fixture(scope="module")
def built(builtin_render: RenderResult, tmp_path_factory: pytest.TempPathFactory,
          kubectl: str) -> dict[str, list[Obj]]:
    return built_overlays(builtin_render, tmp_path_factory.mktemp("netpol"), kubectl)


@pytest.fixture(params=BUILTIN_PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def cluster(profile: str, built: dict[str, list[Obj]]) -> Cluster:
    return Cluster(built[profile], EXTRA_PODS)


def component(pod: Pod) -> str:
    return pod.label_map.get(COMPONENT, "")


def dify_pods(cluster: Cluster) -> list[Pod]:
    return [p for p in cluster.pods if p.namespace == NS]


def reachable(cluster: Cluster, src: Pod | Address) -> set[tuple[str, int, str]]:
    """Every (destination, port, protocol) src may connect to, over pods and addresses."""
    out = set()
    for dst in cluster.pods:
        if dst == src:
            continue
        ports = {(number, proto) for _, number, proto in dst.ports}
        ports |= {(n, "TCP") for n in PROBE_PORTS} | {(53, "UDP")}
        for number, proto in ports:
            if cluster.allowed(src, dst, number, proto):
                out.add((dst.name, number, proto))
    if isinstance(src, Pod):
        for addr in ADDRESSES:
            for number in PROBE_PORTS:
                for proto in ("TCP", "UDP"):
                    if cluster.allowed(src, addr, number, proto):
                        out.add((addr.ip, number, proto))
    return out


def env_of(pod: Pod) -> dict[str, str]:
    return {e["name"]: e["value"] for c in pod.containers for e in c.get("env", [])
            if "value" in e}


# ---------------------------------------------------------------------------- sandboxes


def test_sandboxes_reach_only_the_proxy_their_env_names_and_dns(cluster: Cluster) -> None:
    confined = [p for p in dify_pods(cluster) if component(p) in ("sandbox", "local-sandbox")]
    assert any(component(p) == "sandbox" for p in confined)
    for pod in confined:
        proxies = set()
        for key in ("HTTP_PROXY", "HTTPS_PROXY"):
            for host, port in endpoints(env_of(pod)[key], {}, key):
                targets = cluster.resolve(host, NS, port)
                assert targets, f"{pod.name}: {key} names no Service port"
                proxies |= {(dst.name, number, "TCP") for dst, number in targets}
        expected = proxies | {(KUBE_DNS.name, 53, "UDP"), (KUBE_DNS.name, 53, "TCP")}
        assert reachable(cluster, pod) == expected, pod.name


def test_local_sandbox_is_covered_by_some_builtin_profile(built: dict[str, list[Obj]]) -> None:
    assert any(o["kind"] == "Deployment" and o["metadata"]["name"] == "dify-local-sandbox"
               for objs in built.values() for o in objs)


def test_plugin_daemon_debug_port_is_closed_to_everyone(cluster: Cluster) -> None:
    daemon = next(p for p in dify_pods(cluster) if component(p) == "plugin-daemon")
    debug = daemon.port_named("debug", "TCP")
    assert debug == 5003
    assert not [src.name for src in cluster.pods if src != daemon
                and cluster.allowed(src, daemon, debug)]


# ---------------------------------------------------------------------------- datastores


@pytest.mark.parametrize("store", sorted(CLIENTS))
def test_datastores_admit_only_their_clients(cluster: Cluster, store: str) -> None:
    pod = next(p for p in dify_pods(cluster) if component(p) == store)
    present = {component(p) for p in dify_pods(cluster)}
    for _, number, proto in pod.ports:
        sources = {component(src) or src.name for src in cluster.pods
                   if src != pod and cluster.allowed(src, pod, number, proto)}
        sources |= {a.ip for a in ADDRESSES if cluster.allowed(a, pod, number, proto)}
        assert sources == CLIENTS[store] & present, (store, number)


# ---------------------------------------------------------------------------- wiring


def wiring_violations(cluster: Cluster, ns: str = NS) -> list[str]:
    """Every host:port in a pod's env and config files that the policies do not allow
    both ways (the caller's egress, the callee's ingress), or that names no Service."""
    problems = []
    for pod in [p for p in cluster.pods if p.namespace == ns]:
        for where, key, text, env in cluster.texts(pod):
            for host, port in endpoints(text, env, key):
                targets = cluster.resolve(host, ns, port)
                if targets is None:
                    # Dotted names and addresses are outside the cluster (S3, bind
                    # addresses); a bare name must be one of our Services.
                    if "." not in host and ":" not in host and host != "localhost":
                        problems.append(f"{where}: {host}:{port} names no Service")
                    continue
                if not targets:
                    problems.append(f"{where}: {host}:{port} reaches no pod port")
                for dst, number in targets:
                    # A component's URL of itself is handed to others (public and file
                    # URLs); it is not a call it makes.
                    if component(dst) == component(pod):
                        continue
                    if not cluster.egress_allowed(pod, dst, number):
                        problems.append(f"{where}: {host}:{port} -> {dst.name}:{number} "
                                        "not in the caller's egress")
                    if not cluster.ingress_allowed(pod, dst, number):
                        problems.append(f"{where}: {host}:{port} -> {dst.name}:{number} "
                                        "not in the callee's ingress")
    return problems


def test_every_endpoint_in_env_and_config_is_allowed_both_ways(cluster: Cluster) -> None:
    assert wiring_violations(cluster) == []


def test_the_wiring_check_sees_the_endpoints_that_matter(cluster: Cluster) -> None:
    # Without this, an extractor that found nothing would pass the test above.
    found = {(component(pod), host, port) for pod in dify_pods(cluster)
             for _, key, text, env in cluster.texts(pod)
             for host, port in endpoints(text, env, key)}
    for expected in [("api", "dify-postgres", 5432), ("api", "dify-redis", 6379),
                     ("api", "dify-sandbox", 8194), ("api", "dify-plugin-daemon", 5002),
                     ("api", "dify-weaviate", 50051), ("worker", "dify-ssrf-proxy", 3128),
                     ("plugin-daemon", "dify-api", 5001), ("nginx", "dify-web", 3000),
                     ("ssrf-proxy", "dify-sandbox", 8194), ("sandbox", "dify-ssrf-proxy", 3128)]:
        assert expected in found, expected


def _policy(objs: list[Obj], name: str) -> Obj:
    return next(o for o in objs if o["kind"] == "NetworkPolicy"
                and o["metadata"]["name"] == name)


def test_wiring_check_fails_when_a_policy_drops_a_call(built: dict[str, list[Obj]]) -> None:
    objs = copy.deepcopy(built["small"])
    api = _policy(objs, "dify-api")
    api["spec"]["egress"] = [r for r in api["spec"]["egress"]
                             if not any(p.get("port") == 5432 for p in r.get("ports", []))]
    problems = wiring_violations(Cluster(objs, EXTRA_PODS))
    assert any("dify-api env DB_HOST" in p and "egress" in p for p in problems), problems


def test_wiring_check_fails_when_wiring_adds_an_undeclared_call(
        built: dict[str, list[Obj]]) -> None:
    objs = copy.deepcopy(built["small"])
    web = next(o for o in objs if o["kind"] == "Deployment"
               and o["metadata"]["name"] == "dify-web")
    web["spec"]["template"]["spec"]["containers"][0]["env"].append(
        {"name": "SOME_DEBUG_URL", "value": "http://dify-plugin-daemon:5003"})
    problems = wiring_violations(Cluster(objs, EXTRA_PODS))
    assert any("SOME_DEBUG_URL" in p and "egress" in p for p in problems), problems
    assert any("SOME_DEBUG_URL" in p and "ingress" in p for p in problems), problems


# ---------------------------------------------------------------------------- edges


def test_cloud_metadata_and_internal_addresses_are_never_reachable(cluster: Cluster) -> None:
    for pod in dify_pods(cluster):
        for addr in (*METADATA, *INTERNAL):
            for port in PROBE_PORTS:
                assert not cluster.allowed(pod, addr, port), (pod.name, addr.ip, port)


def test_internet_only_where_dify_needs_it(cluster: Cluster) -> None:
    present = {component(p) for p in dify_pods(cluster)}
    for addr in INTERNET:
        users = {component(p) for p in dify_pods(cluster) if cluster.allowed(p, addr, 443)}
        assert users == INTERNET_USERS & present, addr.ip


def test_every_pod_resolves_names_and_nothing_else_is_open_by_default(
        cluster: Cluster) -> None:
    deny = _policy([*cluster.policies], "dify-default-deny")
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    for pod in dify_pods(cluster):
        assert cluster.allowed(pod, KUBE_DNS, 53, "UDP"), pod.name
        assert cluster.allowed(pod, KUBE_DNS, 53, "TCP"), pod.name
        assert not cluster.allowed(pod, STRANGER, 8080), pod.name
        assert not cluster.allowed(STRANGER, pod, 80), pod.name


def test_entry_point_accepts_only_the_configured_ingress_source(cluster: Cluster,
                                                               profile: str) -> None:
    nginx = next(p for p in dify_pods(cluster) if component(p) == "nginx")
    targets = cluster.resolve("dify-nginx", NS, 80)
    assert targets and {dst for dst, _ in targets} == {nginx}
    # edge runs on k3s, whose ingress controller is Traefik in kube-system (edge.yaml);
    # the others keep the default, ingress-nginx.
    source = TRAEFIK if profile == "edge" else INGRESS_NGINX
    into_dify = {(dst, n, proto) for dst, n, proto in reachable(cluster, source)
                 if dst in {p.name for p in dify_pods(cluster)}}
    assert into_dify == {(nginx.name, number, "TCP") for _, number in targets}
    for other in (INGRESS_NGINX, TRAEFIK, STRANGER, *INTERNET):
        if other is not source:
            assert not cluster.allowed(other, nginx, 8080), other


def test_every_policy_says_why(cluster: Cluster) -> None:
    for policy in cluster.policies:
        why = policy["metadata"].get("annotations", {}).get("difygen.io/why", "")
        assert len(why) > 40, policy["metadata"]["name"]


# ---------------------------------------------------------------------------- settings


def _render_custom(tmp_path: Path, text: str, kubectl: str) -> list[Obj]:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "custom.yaml").write_text(text, encoding="utf-8")
    result = render([find("custom", profiles)])
    return built_overlays(result, tmp_path, kubectl)["custom"]


def test_disabling_policies_removes_them_and_validate_warns(tmp_path: Path,
                                                            kubectl: str) -> None:
    objs = _render_custom(tmp_path, "extends: small\nnetworkPolicies: {enabled: false}\n",
                          kubectl)
    assert not [o for o in objs if o["kind"] == "NetworkPolicy"]
    namespace = next(o for o in objs if o["kind"] == "Namespace")
    assert namespace["metadata"]["labels"]["difygen.io/network-policies"] == "disabled"
    cluster = Cluster(objs, EXTRA_PODS)
    sandbox = next(p for p in dify_pods(cluster) if component(p) == "sandbox")
    assert cluster.allowed(sandbox, METADATA[0], 80)  # what the policies were preventing
    result = validate_manifests(yaml.safe_dump_all(objs))
    assert result.exit_code == 0
    assert {(f.rule, f.severity) for f in result.findings if f.rule == "sandbox-isolation"} \
        == {("sandbox-isolation", "warning")}


def test_validate_fails_when_the_policy_file_is_left_out(built: dict[str, list[Obj]]) -> None:
    objs = [o for o in built["production"] if o["kind"] != "NetworkPolicy"]
    result = validate_manifests(yaml.safe_dump_all(objs))
    errors = [f for f in result.findings if f.rule == "sandbox-isolation"]
    assert result.exit_code == 1
    assert {f.name for f in errors} == {"dify-sandbox", "dify-local-sandbox"}
    assert all(f.severity == "error" for f in errors)


def test_settings_reach_the_policies(tmp_path: Path, kubectl: str) -> None:
    objs = _render_custom(tmp_path, """extends: small
networkPolicies:
  ingressFrom:
    - cidr: 203.0.113.0/24
      except: [203.0.113.128/25]
  dns:
    to: [{cidr: 169.254.20.10/32}]   # NodeLocal DNSCache
    ports: [53]
  internetExcept: [10.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, 192.168.0.0/16, fc00::/7]
""", kubectl)
    cluster = Cluster(objs, EXTRA_PODS)
    nginx = next(p for p in dify_pods(cluster) if component(p) == "nginx")
    sandbox = next(p for p in dify_pods(cluster) if component(p) == "sandbox")
    api = next(p for p in dify_pods(cluster) if component(p) == "api")
    assert cluster.allowed(Address("203.0.113.7"), nginx, 8080)
    assert not cluster.allowed(Address("203.0.113.200"), nginx, 8080)
    assert not cluster.allowed(INGRESS_NGINX, nginx, 8080)
    assert cluster.allowed(sandbox, Address("169.254.20.10"), 53, "UDP")
    assert not cluster.allowed(sandbox, KUBE_DNS, 53, "UDP")
    assert not cluster.allowed(sandbox, METADATA[0], 80)
    # 100.64.0.0/10 is no longer excepted: the api may reach it, the sandbox never.
    assert cluster.allowed(api, Address("100.64.0.1"), 443)
    assert not cluster.allowed(sandbox, Address("100.64.0.1"), 443)
    assert not cluster.allowed(api, METADATA[0], 80)


# ---------------------------------------------------------------------------- catalog, docs


def test_every_call_in_the_catalog_names_a_real_port() -> None:
    from generator.catalog import CATALOG, COMPONENTS, Call, Traffic

    for comp in CATALOG:
        for call in comp.traffic.callees():
            assert call.component in COMPONENTS, (comp.name, call)
            assert call.port in {p.name for p in COMPONENTS[call.component].ports}, \
                (comp.name, call)
    with pytest.raises(ValueError, match="confined"):
        Traffic(calls=(Call("postgres", "postgres"),), confined_to=Call("ssrf-proxy", "proxy"))


def test_docs_explain_every_policy_and_setting(built: dict[str, list[Obj]]) -> None:
    from generator.profile_load import profile_schema

    root = Path(__file__).resolve().parent.parent
    page = (root / "docs" / "network-policies.md").read_text(encoding="utf-8")
    names = {o["metadata"]["name"] for objs in built.values() for o in objs
             if o["kind"] == "NetworkPolicy"}
    for name in sorted(names):
        assert f"`{name}`" in page, name
    keys = profile_schema()["properties"]["networkPolicies"]["properties"]
    profiles_page = (root / "docs" / "profiles.md").read_text(encoding="utf-8")
    for key in keys:
        assert f"`networkPolicies.{key}" in profiles_page, key
        assert f"{key}:" in page, key


# ---------------------------------------------------------------------------- any profile


@st.composite
def network_profiles(draw: st.DrawFn) -> str:
    from generator.catalog import CATALOG

    optional = [c.name for c in CATALOG if not c.required]
    off = draw(st.lists(st.sampled_from(optional), unique=True))
    if "local-sandbox" in off and "agent-backend" not in off:
        # agent-backend's env names local-sandbox whether it runs or not (a wiring gap
        # this test found; reported, fixed with the agent wiring), so keep them together.
        off.append("agent-backend")
    ingress = draw(st.sampled_from([
        "[]", "[{cidr: 198.51.100.0/24}]", "[{podSelector: {}}]",
        "[{namespaceSelector: {team: edge}, podSelector: {app: gateway}}]"]))
    lines = [f"extends: {draw(st.sampled_from(BUILTIN_PROFILES))}",
             f"namespace: {draw(st.sampled_from(['dify', 'ai']))}",
             "networkPolicies:", f"  ingressFrom: {ingress}"]
    if draw(st.booleans()):
        lines.append("  internetExcept: [10.0.0.0/8, 169.254.0.0/16, fd00::/8]")
    if off:
        lines.append("components:")
        lines += [f"  {name}: {{enabled: false}}" for name in off]
    return "\n".join(lines) + "\n"


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(text=network_profiles())
def test_any_profile_confines_its_sandboxes_and_allows_its_wiring(tmp_path_factory:
                                                                  pytest.TempPathFactory,
                                                                  text: str) -> None:
    profiles = tmp_path_factory.mktemp("p")
    (profiles / "custom.yaml").write_text(text, encoding="utf-8")
    (rendered,) = render([find("custom", profiles)]).profiles
    objects = rendered.overlay.objects
    ns = rendered.plan.profile.namespace
    for obj in objects:
        if obj["kind"] == "Namespace":
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = ns
    cluster = Cluster(objects, EXTRA_PODS)
    pods = [p for p in cluster.pods if p.namespace == ns]
    # No policy names a component the profile turned off.
    names = {component(p) for p in pods}
    for policy in cluster.policies:
        spec = policy["spec"]
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
            for peer in [*rule.get("from", []), *rule.get("to", [])]:
                labels = peer.get("podSelector", {}).get("matchLabels", {})
                if COMPONENT in labels and "namespaceSelector" not in peer:
                    assert labels[COMPONENT] in names, (policy["metadata"]["name"], labels)
    for pod in pods:
        if component(pod) in ("sandbox", "local-sandbox"):
            proxies = {dst.name for key in ("HTTP_PROXY", "HTTPS_PROXY")
                       for host, port in endpoints(env_of(pod)[key], {}, key)
                       for dst, _ in cluster.resolve(host, ns, port) or []}
            assert {dst for dst, _, _ in reachable(cluster, pod)} <= {*proxies, KUBE_DNS.name}
        for addr in METADATA:
            assert not cluster.allowed(pod, addr, 80), pod.name
    assert wiring_violations(cluster, ns) == []


def test_an_ipv4_only_except_list_gives_ipv4_only_internet(tmp_path: Path, kubectl: str) -> None:
    objs = _render_custom(tmp_path, "extends: small\nnetworkPolicies:\n  internetExcept: "
                                    "[10.0.0.0/8, 169.254.0.0/16, 172.16.0.0/12, "
                                    "192.168.0.0/16]\n", kubectl)
    cluster = Cluster(objs, EXTRA_PODS)
    api = next(p for p in dify_pods(cluster) if component(p) == "api")
    assert cluster.allowed(api, INTERNET[0], 443)
    assert not cluster.allowed(api, INTERNET[1], 443)
    assert not cluster.allowed(api, METADATA[1], 80)
    blocks = [peer["ipBlock"]["cidr"] for p in cluster.policies
              for rule in p["spec"].get("egress", []) for peer in rule.get("to", [])
              if "ipBlock" in peer]
    assert blocks and "::/0" not in blocks

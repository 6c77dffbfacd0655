"""A local Kubernetes control plane for the engine tests: etcd, kube-apiserver,
kube-controller-manager and kube-scheduler, with kwok simulating the nodes (docs/engines.md).

Everything listens on 127.0.0.1 at ports chosen free at start. Certificates, the
service-account key pair and the kubeconfigs are generated here. Every process runs in its own
process group, dies with the test process (PR_SET_PDEATHSIG) and is stopped by `stop()`, which
the session fixture calls even when tests fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import datetime
import http.client
import ipaddress
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Obj = dict[str, Any]
# The annotation kwok's --manage-nodes-with-annotation-selector picks nodes by.
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
SERVICE_CIDR = "10.96.0.0/16"


class ClusterError(RuntimeError):
    """The control plane did not start or an API call failed unexpectedly."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# ---------------------------------------------------------------------------- certificates

def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(common: str, org: str | None = None) -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common)]
    if org:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(parts)


@dataclass
class _CA:
    key: rsa.RSAPrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls) -> _CA:
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        cert = (x509.CertificateBuilder().subject_name(_name("difygen-test-ca"))
                .issuer_name(_name("difygen-test-ca")).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(minutes=5))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                             crl_sign=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, encipher_only=False,
                                             decipher_only=False), critical=True)
                .sign(key, hashes.SHA256()))
        return cls(key, cert)

    def issue(self, common: str, org: str | None = None, *, server: bool = False
              ) -> tuple[bytes, bytes]:
        key = _key()
        now = datetime.datetime.now(datetime.UTC)
        builder = (x509.CertificateBuilder().subject_name(_name(common, org))
                   .issuer_name(self.cert.subject).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                                  critical=True))
        if server:
            builder = builder.add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.DNSName("kubernetes"),
                x509.DNSName("kubernetes.default"), x509.DNSName("kubernetes.default.svc"),
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.IPAddress(ipaddress.ip_address("10.96.0.1")),
            ]), critical=False).add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        else:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return _pem_cert(cert), _pem_key(key)


def _kubeconfig(server: str, ca: Path, cert: Path, key: Path) -> str:
    return json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "difygen-test",
        "clusters": [{"name": "difygen-test", "cluster": {
            "server": server, "certificate-authority": str(ca)}}],
        "users": [{"name": "user", "user": {
            "client-certificate": str(cert), "client-key": str(key)}}],
        "contexts": [{"name": "difygen-test", "context": {
            "cluster": "difygen-test", "user": "user"}}],
    }, indent=1)


# ---------------------------------------------------------------------------- API client

@dataclass
class Response:
    status: int
    body: Obj
    warnings: list[str]


class API:
    """A small client of the Kubernetes REST API (client certificate of system:masters)."""

    def __init__(self, port: int, ca: Path, cert: Path, key: Path) -> None:
        self.port = port
        self._context = ssl.create_default_context(cafile=str(ca))
        self._context.load_cert_chain(str(cert), str(key))
        self._resources: dict[tuple[str, str], tuple[str, bool]] = {}

    def request(self, method: str, path: str, body: Obj | None = None,
                content_type: str = "application/json", timeout: float = 30) -> Response:
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self._context,
                                                 timeout=timeout)
        try:
            payload = None if body is None else json.dumps(body).encode()
            headers = {"Accept": "application/json"}
            if payload is not None:
                headers["Content-Type"] = content_type
            connection.request(method, path, body=payload, headers=headers)
            answer = connection.getresponse()
            raw = answer.read()
            warnings = answer.headers.get_all("Warning") or []
        finally:
            connection.close()
        try:
            parsed = json.loads(raw) if raw else {}
        except json.JSONDecodeError:
            parsed = {"raw": raw.decode(errors="replace")}
        return Response(answer.status, parsed, [_warning_text(w) for w in warnings])

    def get(self, path: str) -> Obj:
        answer = self.request("GET", path)
        if answer.status != 200:
            raise ClusterError(f"GET {path}: {answer.status} {answer.body}")
        return answer.body

    def ok(self, method: str, path: str, body: Obj | None = None,
           content_type: str = "application/json") -> Obj:
        answer = self.request(method, path, body, content_type)
        if answer.status >= 300:
            raise ClusterError(f"{method} {path}: {answer.status} {answer.body}")
        return answer.body

    # -- resources

    def resource(self, api_version: str, kind: str) -> tuple[str, bool]:
        """(URL prefix of the collection's group version + plural, namespaced) from discovery."""
        if (api_version, kind) not in self._resources:
            prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
            for item in self.get(prefix)["resources"]:
                if "/" not in item["name"]:
                    self._resources[(api_version, item["kind"])] = (
                        f"{prefix}/{item['name']}", item["namespaced"])
        if (api_version, kind) not in self._resources:
            raise ClusterError(f"the API server serves no {kind} in {api_version}")
        return self._resources[(api_version, kind)]

    def path(self, obj: Obj, namespace: str | None = None) -> str:
        collection, namespaced = self.resource(obj["apiVersion"], obj["kind"])
        meta = obj["metadata"]
        if namespaced:
            ns = meta.get("namespace") or namespace
            group, plural = collection.rsplit("/", 1)
            return f"{group}/namespaces/{ns}/{plural}/{meta['name']}"
        return f"{collection}/{meta['name']}"

    def collection(self, api_version: str, kind: str, namespace: str | None = None) -> str:
        collection, namespaced = self.resource(api_version, kind)
        if namespaced and namespace:
            group, plural = collection.rsplit("/", 1)
            return f"{group}/namespaces/{namespace}/{plural}"
        return collection

    def apply(self, obj: Obj, manager: str, *, force: bool = False) -> Response:
        """Server-side apply with strict field validation; the server's answer as is."""
        query = urllib.parse.urlencode({"fieldManager": manager, "fieldValidation": "Strict",
                                        "force": "true" if force else "false"})
        return self.request("PATCH", f"{self.path(obj)}?{query}", obj,
                            "application/apply-patch+yaml")

    def list(self, api_version: str, kind: str, namespace: str | None = None,
             selector: str | None = None) -> list[Obj]:
        path = self.collection(api_version, kind, namespace)
        if selector:
            path += "?" + urllib.parse.urlencode({"labelSelector": selector})
        items: list[Obj] = self.get(path)["items"]
        return items


class Watch:
    """A collection's watch events, in the order the API server sends them.

    Lists the collection, then watches from the list's resourceVersion in a thread: `events`
    holds (type, object) pairs as they arrive. Within one collection the API server sends events
    in the order the changes were stored, which is finer than the one-second timestamps of
    `creationTimestamp` and `completionTime`. `stop()` ends the stream.
    """

    def __init__(self, api: API, collection: str, timeout: int = 1800) -> None:
        listing = api.get(collection)
        self.initial: list[Obj] = listing["items"]
        self.events: list[tuple[str, Obj]] = []
        self.error: str | None = None
        self._stopping = False
        query = urllib.parse.urlencode({"watch": "1", "timeoutSeconds": str(timeout),
                                        "resourceVersion": listing["metadata"]["resourceVersion"]})
        self._connection = http.client.HTTPSConnection("127.0.0.1", api.port,
                                                       context=api._context, timeout=timeout)
        self._connection.request("GET", f"{collection}?{query}",
                                 headers={"Accept": "application/json"})
        answer = self._connection.getresponse()
        if answer.status != 200:
            raise ClusterError(f"watch {collection}: {answer.status} {answer.read()!r}")
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(answer,), daemon=True)
        self._thread.start()

    def _read(self, answer: http.client.HTTPResponse) -> None:
        try:
            for line in iter(answer.readline, b""):
                if not line.strip():
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":
                    self.error = str(event["object"])
                    return
                with self._lock:
                    self.events.append((event["type"], event["object"]))
        except Exception as error:  # reported through `error`
            # Shutting the socket down in stop() ends readline() with one error or another.
            if self.error is None and not self._stopping:
                self.error = f"{type(error).__name__}: {error}"

    def snapshot(self) -> list[tuple[str, Obj]]:
        with self._lock:
            return list(self.events)

    def stop(self) -> list[tuple[str, Obj]]:
        """End the stream; the events received until then."""
        self._stopping = True
        with contextlib.suppress(OSError):
            if self._connection.sock is not None:
                self._connection.sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=10)
        self._connection.close()
        return self.snapshot()


def _warning_text(header: str) -> str:
    # RFC 7234 warning: 299 - "text"
    text = header.split(" ", 2)[-1].strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"')
    return text


# ---------------------------------------------------------------------------- processes

def _die_with_parent() -> None:
    """Runs in the child: a SIGKILL of the test process still takes its engines down."""
    os.setsid()
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


@dataclass
class Cluster:
    """A running control plane; `api` talks to it, `stop()` ends every process."""

    workdir: Path
    binaries: dict[str, Path]
    kwok_binary: Path
    api: API = field(init=False)
    admin_kubeconfig: Path = field(init=False)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def start(self, timeout: float = 300) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        pki = self.workdir / "pki"
        pki.mkdir(parents=True, exist_ok=True)
        ca = _CA.create()
        (pki / "ca.crt").write_bytes(_pem_cert(ca.cert))
        files = {
            "apiserver": ca.issue("kube-apiserver", server=True),
            "admin": ca.issue("difygen-test-admin", "system:masters"),
            "controller-manager": ca.issue("system:kube-controller-manager"),
            "scheduler": ca.issue("system:kube-scheduler"),
        }
        for name, (cert, key) in files.items():
            (pki / f"{name}.crt").write_bytes(cert)
            (pki / f"{name}.key").write_bytes(key)
            (pki / f"{name}.key").chmod(0o600)
        sa_key = _key()
        (pki / "sa.key").write_bytes(_pem_key(sa_key))
        (pki / "sa.pub").write_bytes(sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))

        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        server = f"https://127.0.0.1:{api_port}"
        configs = {}
        for name in ("admin", "controller-manager", "scheduler"):
            path = self.workdir / f"{name}.kubeconfig"
            path.write_text(_kubeconfig(server, pki / "ca.crt", pki / f"{name}.crt",
                                        pki / f"{name}.key"), encoding="utf-8")
            configs[name] = path
        self.admin_kubeconfig = configs["admin"]
        self.api = API(api_port, pki / "ca.crt", pki / "admin.crt", pki / "admin.key")

        self._spawn("etcd", [
            str(self.binaries["etcd"]), "--name=difygen-test",
            f"--data-dir={self.workdir / 'etcd'}",
            f"--listen-client-urls=http://127.0.0.1:{etcd_port}",
            f"--advertise-client-urls=http://127.0.0.1:{etcd_port}",
            f"--listen-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer_port}",
            f"--initial-cluster=difygen-test=http://127.0.0.1:{peer_port}",
            "--unsafe-no-fsync=true",     # test data: trade durability for a faster suite
            "--quota-backend-bytes=2147483648",
        ])
        self._spawn("kube-apiserver", [
            str(self.binaries["kube-apiserver"]),
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1", f"--secure-port={api_port}",
            "--advertise-address=127.0.0.1",
            # The reconciler would publish 127.0.0.1 as the kubernetes Service's endpoint,
            # which Endpoints validation rejects; nothing in the tests calls that Service.
            "--endpoint-reconciler-type=none",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
        ])
        self._wait_ready(timeout)
        common = ["--leader-elect=false", "--bind-address=127.0.0.1"]
        self._spawn("kube-controller-manager", [
            str(self.binaries["kube-controller-manager"]), *common,
            f"--secure-port={free_port()}",
            f"--kubeconfig={configs['controller-manager']}",
            f"--authentication-kubeconfig={configs['controller-manager']}",
            f"--authorization-kubeconfig={configs['controller-manager']}",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
        ])
        self._spawn("kube-scheduler", [
            str(self.binaries["kube-scheduler"]), *common,
            f"--secure-port={free_port()}",
            f"--kubeconfig={configs['scheduler']}",
            f"--authentication-kubeconfig={configs['scheduler']}",
            f"--authorization-kubeconfig={configs['scheduler']}",
        ])
        # Our own (empty) configuration, so that a ~/.kwok/kwok.yaml cannot change the
        # stages: kwok then uses its default node and pod stages (Ready nodes, Running pods).
        kwok_config = self.workdir / "kwok.yaml"
        kwok_config.write_text("apiVersion: config.kwok.x-k8s.io/v1alpha1\n"
                               "kind: KwokConfiguration\noptions: {}\n", encoding="utf-8")
        self._spawn("kwok", [
            str(self.kwok_binary), f"--config={kwok_config}",
            f"--kubeconfig={configs['admin']}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=" + "=".join(KWOK_NODE_ANNOTATION),
            f"--server-address=127.0.0.1:{free_port()}",
            "--cidr=10.0.0.1/16", "--node-ip=10.0.0.1",
            # Our configuration file leaves kwok's node lease off (its default of 40 s is set
            # only when it writes its own); without leases the nodes' only heartbeat is a status
            # update about every 50 s, and the node lifecycle controller (50 s grace) marked
            # every node NotReady for a few seconds each minute, its pods unready with it.
            "--node-lease-duration-seconds=40",
        ])
        # The default namespace's ServiceAccount appears once the controller manager runs.
        self.wait(lambda: self.api.request(
            "GET", "/api/v1/namespaces/default/serviceaccounts/default").status == 200,
            "the controller manager to create the default ServiceAccount", timeout)

    def _spawn(self, name: str, command: list[str]) -> None:
        log = open(self.workdir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent, cwd=self.workdir)
        log.close()

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_processes()
            with contextlib.suppress(OSError, ssl.SSLError, http.client.HTTPException):
                if self.api.request("GET", "/readyz", timeout=5).status == 200:
                    return
            time.sleep(0.5)
        raise ClusterError(f"kube-apiserver not ready after {timeout:.0f}s:\n"
                           + self.log_tail("kube-apiserver"))

    def check_processes(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise ClusterError(f"{name} exited with {process.returncode}:\n"
                                   + self.log_tail(name))

    def log_tail(self, name: str, lines: int = 30) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return "(no log)"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def wait(self, condition: Callable[[], object], what: str, timeout: float = 180,
             diagnose: Callable[[], str] | None = None) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_processes()
            if condition():
                return
            time.sleep(0.5)
        detail = diagnose() if diagnose else ""
        raise ClusterError(f"timed out after {timeout:.0f}s waiting for {what}\n{detail}")

    def stop(self) -> None:
        """Stop every engine: SIGTERM, then SIGKILL of the whole process group."""
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


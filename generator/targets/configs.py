"""Configuration files difygen writes into ConfigMaps (nginx, both squids, the sandbox).

Written by difygen rather than taken from Dify's compose setup: the compose files are
templates for a shell entrypoint that rewrites them at start, which needs a writable root
filesystem; ConfigMaps mounted read-only do not. The files are jinja2 templates shipped in
generator/templates/ and rendered with StrictUndefined: a name the template uses and the
context lacks is an error, never an empty string. Hosts and ports come from the catalog.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import jinja2

from generator.catalog import ENTRY_POINT, Component, ConfigFile, service_host

# Paths the api serves, from Dify's nginx routing: console and service APIs, files,
# MCP and trigger webhooks. Everything else goes to the web front end.
API_PATHS = ("/console/api", "/api", "/v1", "/files", "/mcp", "/triggers")

# From Dify's docker/ssrf_proxy/squid-common.conf.template: who may use the proxy (every
# private range a pod network may use, CGNAT included) and the destinations it refuses.
CLIENT_NETWORKS = ("0.0.0.1-0.255.255.255", "10.0.0.0/8", "100.64.0.0/10", "169.254.0.0/16",
                   "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")
PRIVATE_NETWORKS = ("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8",
                    "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/4",
                    "240.0.0.0/4", "::/128", "::1/128", "::ffff:0:0/96", "::/96", "fc00::/7",
                    "fe80::/10")
SAFE_PORTS = ("80", "21", "443", "70", "210", "1025-65535", "280", "488", "591", "777")
REQUEST_BUFFER = "100 MB"
SANDBOX_WORKER_TIMEOUT = 15

_PROXY = """    proxy_set_header Host $host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header X-Forwarded-Port $server_port;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_buffering off;
    proxy_read_timeout 3600s;
    proxy_send_timeout 3600s;"""


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("generator", "templates"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(template: str, **context: Any) -> str:
    return _env().get_template(template).render(**context)


def _squid_common() -> dict[str, Any]:
    return {"client_networks": CLIENT_NETWORKS, "private_networks": PRIVATE_NETWORKS,
            "safe_ports": SAFE_PORTS, "request_buffer": REQUEST_BUFFER}


def host_regex(component: str) -> str:
    """A squid dstdom_regex for a Service's names a client may use: short, namespaced and
    fully qualified. The namespace is a pattern, not a value, so the file is the same in
    every namespace (fleet environments are copies that differ only in namespace)."""
    short = service_host(component)  # a DNS label: nothing a regex would read specially
    assert re.fullmatch(r"[a-z0-9-]+", short), short
    return rf"^{short}(\.[a-z0-9-]+(\.svc(\.cluster\.local)?)?)?$"


@dataclass(frozen=True)
class TemplateInput:
    """What a template may depend on besides the catalog."""

    enabled: frozenset[str]
    client_max_body_size: str = "100M"


def _nginx(comp: Component, inp: TemplateInput) -> dict[str, Any]:
    return {
        "listen_port": comp.port("http").port,
        "client_max_body_size": inp.client_max_body_size,
        "api_paths": API_PATHS, "proxy": _PROXY,
    }


def _squid(comp: Component, inp: TemplateInput) -> dict[str, Any]:
    return {"proxy_port": comp.port("proxy").port, "sandbox_port": comp.port("sandbox").port,
            **_squid_common()}


def _squid_agent(comp: Component, inp: TemplateInput) -> dict[str, Any]:
    return {"proxy_port": comp.port("proxy").port, **_squid_common()}


def _sandbox(comp: Component, inp: TemplateInput) -> dict[str, Any]:
    return {"port": comp.port("http").port, "worker_timeout": SANDBOX_WORKER_TIMEOUT}


# Each template's context, by template: the catalog says which component uses which file.
CONTEXTS: dict[str, Callable[[Component, TemplateInput], dict[str, Any]]] = {
    "nginx.conf.j2": _nginx,
    "squid.conf.j2": _squid,
    "squid-agent.conf.j2": _squid_agent,
    "sandbox-config.yaml.j2": _sandbox,
}


def _refs(f: ConfigFile, inp: TemplateInput) -> dict[str, str]:
    """The other components a file names, from the catalog's declared endpoints."""
    out = {}
    for ref in f.refs:
        if ref.when is not None and ref.when not in inp.enabled:
            out[ref.var] = ""
        elif ref.host_regex:
            out[ref.var] = host_regex(ref.endpoint.component)
        else:
            out[ref.var] = ref.endpoint.render()
    return out


def files(comp: Component, inp: TemplateInput) -> dict[str, str]:
    """The rendered configuration files of one component, by file name."""
    return dict(_files(comp, inp))


# A file depends on its component and the template input only, and every pod template
# hashes its ConfigMap: render each once (a fleet renders the same files for each sizing).
@cache
def _files(comp: Component, inp: TemplateInput) -> tuple[tuple[str, str], ...]:
    return tuple((f.filename, render(f.template, **CONTEXTS[f.template](comp, inp),
                                     **_refs(f, inp)))
                 for f in comp.config_files)


def nginx_conf(*, websocket: bool) -> str:
    """The entry point's configuration file, with every optional upstream on or off."""
    [conf] = ENTRY_POINT.config_files
    optional = {r.when for r in conf.refs if r.when is not None}
    inp = TemplateInput(frozenset(optional if websocket else ()))
    return files(ENTRY_POINT, inp)[conf.filename]

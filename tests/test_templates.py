"""The text configuration files are jinja2 templates shipped in the package."""

from __future__ import annotations

import re

import jinja2
import pytest

from generator.catalog import CATALOG, COMPONENTS
from generator.targets import configs


def test_every_config_file_of_the_catalog_has_a_template_and_a_context() -> None:
    files = [(c, f) for c in CATALOG for f in c.config_files]
    assert {f.template for _, f in files} == set(configs.CONTEXTS)
    inp = configs.TemplateInput(frozenset(c.name for c in CATALOG))
    for comp, f in files:
        text = configs.files(comp, inp)[f.filename]
        assert text.endswith("\n") and "{{" not in text and "{%" not in text, f.template


def test_a_name_missing_from_the_context_is_an_error_not_an_empty_string() -> None:
    with pytest.raises(jinja2.UndefinedError):
        configs.render("squid.conf.j2", proxy_port=3128)


def test_the_websocket_route_follows_the_component() -> None:
    assert "location /socket.io/" not in configs.nginx_conf(websocket=False)
    on = configs.nginx_conf(websocket=True)
    assert "proxy_pass http://dify-api-websocket:5001;" in on
    assert "listen 8080;" in on  # the container port, from the catalog


def test_the_agent_proxy_allows_only_its_two_paths_before_denying_private_ranges() -> None:
    inp = configs.TemplateInput(frozenset({"local-sandbox"}))
    conf = configs.files(COMPONENTS["agent-ssrf-proxy"], inp)["squid.conf"]
    lines = [line for line in conf.splitlines() if line.startswith("http_access")]
    deny_private = lines.index("http_access deny to_private_networks")
    allows = [line for line in lines[:deny_private] if " allow " in line]
    assert allows == ["http_access allow localnet dst_agent_backend path_agent_stub",
                      "http_access allow localnet dst_dify_api path_files"]
    api = re.search(r"acl dst_dify_api dstdom_regex -n (\S+)", conf)
    assert api is not None
    for name in ("dify-api", "dify-api.team-a", "dify-api.team-a.svc.cluster.local"):
        assert re.match(api.group(1), name), name
    for name in ("dify-api-websocket", "dify-apix", "evil-dify-api", "dify-api.x.example.com"):
        assert not re.match(api.group(1), name), name
    assert lines[-1] == "http_access deny all"

"""KEDA worker pools follow the profile's Redis: the ScaledObjects' triggers read the
queues where the workers' broker is (in-cluster Service, external host with TLS and a
username, or Sentinel), in the broker database, and pass the strict KEDA 2.16 schemas."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from generator import crd_schemas
from generator.profile_load import find
from generator.render import RenderedProfile, render

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples" / "profiles"
Obj = dict[str, Any]


def _render(tmp_path: Path, redis: str) -> tuple[RenderedProfile, Obj]:
    shutil.copy(EXAMPLES / "platform.yaml", tmp_path / "platform.yaml")
    (tmp_path / "p.yaml").write_text("extends: ./platform.yaml\n" + redis)
    result = render([find("p", tmp_path)])
    helm = yaml.safe_load(result.files["helm/p/values.yaml"].partition("\n")[2])
    return result.profiles[0], helm


def _keda(rendered: RenderedProfile) -> tuple[list[Obj], Obj]:
    objs = rendered.overlay.objects
    for obj in objs:
        crd = crd_schemas.schema_name(obj["apiVersion"], obj["kind"])
        if obj["apiVersion"].startswith("keda.sh/"):
            assert crd is not None and crd_schemas.errors(crd, obj) == [], obj["metadata"]
    scaled = [o for o in objs if o["kind"] == "ScaledObject"]
    auth = [o for o in objs if o["kind"] == "TriggerAuthentication"]
    assert scaled and len(auth) == 1
    return scaled, auth[0]


def _triggers(scaled: list[Obj]) -> list[Obj]:
    triggers = [t for so in scaled for t in so["spec"]["triggers"]]
    assert all(t["authenticationRef"] == {"name": "dify-redis-broker"} for t in triggers)
    return triggers


def _connection(trigger: Obj) -> Obj:
    """The trigger's metadata without what varies per queue."""
    return {k: v for k, v in trigger["metadata"].items()
            if k not in ("listName", "listLength", "activationListLength")}


def _password_only(auth: Obj) -> None:
    assert auth["spec"] == {"secretTargetRef": [
        {"parameter": "password", "name": "dify-secrets", "key": "REDIS_PASSWORD"}]}


def test_in_cluster_redis(tmp_path: Path) -> None:
    rendered, _ = _render(tmp_path, "")
    scaled, auth = _keda(rendered)
    triggers = _triggers(scaled)
    assert {t["type"] for t in triggers} == {"redis"}
    # the in-cluster Service the workers' broker URL names, database 1
    assert all(_connection(t) == {"address": "dify-redis:6379", "databaseIndex": "1"}
               for t in triggers)
    assert any(o["kind"] == "Service" and o["metadata"]["name"] == "dify-redis"
               for o in rendered.overlay.objects)
    _password_only(auth)


def test_external_redis_with_tls_a_username_and_a_broker_db(tmp_path: Path) -> None:
    rendered, helm = _render(tmp_path, """\
redis:
  external: {host: 10.20.0.4, port: 6378, tls: true, username: dify, db: 2, brokerDb: 5}
""")
    scaled, auth = _keda(rendered)
    triggers = _triggers(scaled)
    assert {t["type"] for t in triggers} == {"redis"}
    assert all(_connection(t) == {"address": "10.20.0.4:6378", "username": "dify",
                                  "enableTLS": "true", "databaseIndex": "5"}
               for t in triggers)
    # nothing points at the in-cluster Redis, which is not deployed
    assert "dify-redis:" not in yaml.safe_dump(scaled)
    assert not any(o["kind"] == "Service" and o["metadata"]["name"] == "dify-redis"
                   for o in rendered.overlay.objects)
    _password_only(auth)
    # the app's own database stays REDIS_DB; the chart's broker URL uses brokerDb
    assert helm["externalRedis"]["db"] == {"app": 2, "celery": 5}


def test_external_redis_default_broker_db_without_tls(tmp_path: Path) -> None:
    rendered, helm = _render(tmp_path, "redis:\n  external: {host: redis.example.com}\n")
    triggers = _triggers(_keda(rendered)[0])
    assert all(_connection(t) == {"address": "redis.example.com:6379", "databaseIndex": "1"}
               for t in triggers)
    assert helm["externalRedis"]["db"] == {"app": 0, "celery": 1}


def test_redis_sentinel(tmp_path: Path) -> None:
    rendered, _ = _render(tmp_path, """\
redis:
  external:
    sentinel: {masterName: dify, nodes: ["s1.example.com:26379", "s2.example.com:26379"]}
    tls: true
""")
    scaled, auth = _keda(rendered)
    triggers = _triggers(scaled)
    assert {t["type"] for t in triggers} == {"redis-sentinel"}
    assert all(_connection(t) == {
        "addresses": "s1.example.com:26379,s2.example.com:26379", "sentinelMaster": "dify",
        "enableTLS": "true", "databaseIndex": "1"} for t in triggers)
    _password_only(auth)


@pytest.mark.parametrize("redis", ["", "redis:\n  external: {host: r.example.com, brokerDb: 4}\n"])
def test_explain_names_the_broker_db(tmp_path: Path, redis: str) -> None:
    from generator.explain import explain

    rendered, _ = _render(tmp_path, redis)
    db = "4" if redis else "1"
    assert f"in broker db {db}," in explain(rendered.plan)

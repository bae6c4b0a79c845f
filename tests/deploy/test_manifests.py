"""Deployment files checked against their schemas (offline) and against the code: every service,
variable, port and topic in docker-compose.yml and deploy/k8s/ must exist in the code."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic_settings import BaseSettings

from odr.services import SERVICES, app_module
from shared.config import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
K8S_VERSION = "1.31"


def _compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _k8s_docs() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        docs += [(path.name, d) for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


def _known_variables() -> set[str]:
    """Every ODR_ variable the code reads: the platform settings, per-service database URLs,
    the CLI's host and port, and any service settings class with an ODR_ prefix."""
    for svc in SERVICES:
        app_module(svc)
    known = {f"ODR_{name.upper()}" for name in Settings.model_fields}
    known |= {f"ODR_{svc.upper()}_DATABASE_URL" for svc in SERVICES} | {"ODR_HOST", "ODR_PORT"}
    pending = list(BaseSettings.__subclasses__())
    while pending:
        cls = pending.pop()
        pending += cls.__subclasses__()
        prefix = (cls.model_config.get("env_prefix") or "").upper()
        if prefix.startswith("ODR_"):
            known |= {f"{prefix}{name.upper()}" for name in cls.model_fields}
    return known


def test_compose_file_follows_the_compose_specification():
    schema = json.loads(resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text())
    jsonschema.validate(_compose(), schema)


def test_compose_runs_every_service_with_its_own_database_and_prefix():
    compose = _compose()["services"]
    for svc in SERVICES:
        spec = compose[svc]
        assert spec["build"]["target"] == svc
        env = spec["environment"]
        assert env[f"ODR_{svc.upper()}_DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert env["ODR_ROOT_PATH"] == f"/{svc}"
        assert env["ODR_BUS"] == "kafka"
        assert spec["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert spec["depends_on"]["kafka"]["condition"] == "service_healthy"
        others = {f"ODR_{o.upper()}_DATABASE_URL" for o in SERVICES if o != svc}
        assert not others & set(env), f"{svc} must not see another service's database"


def test_every_variable_in_compose_and_kubernetes_is_read_by_the_code():
    known = _known_variables()
    used = set()
    for spec in _compose()["services"].values():
        used |= {k for k in (spec.get("environment") or {}) if k.startswith("ODR_")}
    for _, doc in _k8s_docs():
        used |= {k for k in (doc.get("data") or {}) | (doc.get("stringData") or {}) if k.startswith("ODR_")}
        for container in doc.get("spec", {}).get("template", {}).get("spec", {}).get("containers", []):
            used |= {e["name"] for e in container.get("env", []) if e["name"].startswith("ODR_")}
    assert used and used <= known, sorted(used - known)


def test_ports_and_routes_line_up_with_the_image_and_the_gateway():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert re.search(r"ODR_PORT=8000", dockerfile) and "EXPOSE 8000" in dockerfile
    for svc in SERVICES:
        assert re.search(rf"^FROM runtime AS {svc}$", dockerfile, re.M)
        assert f'CMD ["odr", "serve", "{svc}"]' in dockerfile
    nginx = (ROOT / "deploy" / "nginx.conf").read_text()
    for svc in SERVICES:
        assert re.search(rf"upstream {svc}\s*{{[^}}]*server {svc}:8000", nginx), svc
        assert f"location /{svc}/" in nginx


@pytest.mark.parametrize("name, doc", _k8s_docs(), ids=lambda v: v if isinstance(v, str) else v.get("kind"))
def test_kubernetes_manifests_follow_the_kubernetes_schemas(name, doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_kubernetes_runs_every_service_with_probes_and_its_own_database():
    by_kind: dict[str, dict[str, dict]] = {}
    for _, doc in _k8s_docs():
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    for svc in SERVICES:
        container = by_kind["Deployment"][svc]["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][:3] == ["odr", "serve", svc]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["resources"]["requests"]
        names = {e["name"] for e in container["env"]}
        assert f"ODR_{svc.upper()}_DATABASE_URL" in names
        assert not {f"ODR_{o.upper()}_DATABASE_URL" for o in SERVICES if o != svc} & names
        assert svc in by_kind["Service"]
    assert by_kind["HorizontalPodAutoscaler"]["sessions"]["spec"]["scaleTargetRef"]["name"] == "sessions"
    # every Ingress of the host (sessions has its own: bigger request bodies for documents)
    paths = [p["path"] for ing in by_kind["Ingress"].values() for r in ing["spec"]["rules"] for p in r["http"]["paths"]]
    assert all(any(p.startswith(f"/{svc}") for p in paths) for svc in SERVICES)
    # The browser client: its own Deployment and Service, at / on the Ingress.
    assert by_kind["Deployment"]["client"]["spec"]["template"]["spec"]["containers"][0]["image"].startswith("odr-client")
    assert "client" in by_kind["Service"] and "/()(.*)" in paths


def test_the_gateways_serve_the_browser_client():
    compose = _compose()["services"]["gateway"]
    assert "./client:/usr/share/nginx/html:ro" in compose["volumes"]
    for conf in ("nginx.conf", "client-nginx.conf"):
        text = (ROOT / "deploy" / conf).read_text()
        assert "try_files /index.html" in text and "location /assets/" in text, conf
    assert re.search(r"^FROM \S+ AS client$", (ROOT / "deploy" / "Dockerfile").read_text(), re.M)
    assert (ROOT / "client" / "index.html").exists()


def test_topics_cover_every_event_and_agree_everywhere():
    from shared.asyncapi import asyncapi_document

    def parse(text: str) -> dict[str, tuple[int, int]]:
        rows = [line.split() for line in text.splitlines() if line.strip() and not line.startswith("#")]
        return {name: (int(p), int(r)) for name, p, r in rows}

    compose_topics = parse((ROOT / "deploy" / "kafka" / "topics.txt").read_text())
    k8s_topics = parse(next(d for _, d in _k8s_docs() if d["metadata"]["name"] == "odr-kafka-topics")["data"]["topics.txt"])
    assert compose_topics == k8s_topics
    event_topics = {t for t in asyncapi_document()["channels"] if not t.startswith("odr.test")}
    assert event_topics <= set(compose_topics), sorted(event_topics - set(compose_topics))

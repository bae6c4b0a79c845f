"""The embedded run (`odr dev`): four services on one port, talking through the bus — and the
same apps on PostgreSQL + Kafka, selected by configuration only."""

from __future__ import annotations

import re
from pathlib import Path

from shared.config import Settings
from odr.gateway import create_gateway
from tests.support.apps import running
from tests.support.waiting import eventually




async def test_four_services_are_ready_behind_one_gateway(tmp_path):
    app = create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"))
    async with running(app) as client:
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "ready"
        assert set(ready["checks"]) == {"intake", "sessions", "agreements", "notifications"}
        for service in ready["checks"]:
            assert (await client.get(f"/{service}/healthz")).json()["status"] == "ok"
            assert (await client.get(f"/{service}/readyz")).status_code == 200
            assert "odr_http_requests_total" in (await client.get(f"/{service}/metrics")).text
            assert (await client.get(f"/{service}/openapi.json")).json()["info"]["title"].startswith("ODR")
        assert "ODR" in (await client.get("/")).text


async def test_the_browser_client_is_served_at_every_path_the_services_do_not_own(tmp_path):
    app = create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"))
    async with running(app) as client:
        page = await client.get("/")
        assert page.status_code == 200 and '<script type="module" src="/assets/js/main.js">' in page.text
        # Links in notices open the client, which routes them itself.
        deep = await client.get("/cases/0b6a/agreements/9f1e/sign")
        assert deep.status_code == 200 and deep.text == page.text
        assert (await client.get("/assets/js/main.js")).headers["content-type"].startswith(("text/javascript", "application/javascript"))
        assert (await client.get("/assets/app.css")).status_code == 200
        assert (await client.get("/assets/missing.js")).status_code == 404
        # The services keep their own answers, including their 404 problems.
        missing = await client.get("/intake/no-such-route")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/asyncapi.json")).status_code == 200
        assert (await client.get("/asyncapi.json")).json()["asyncapi"].startswith("3.")
        # Every page of the client survives a reload, /notifications (the feed) included, while
        # what is under a service's prefix stays the service's.
        for path in client_pages():
            reloaded = await client.get(path)
            assert reloaded.status_code == 200 and reloaded.text == page.text, path
        feed = await client.get("/notifications/feed")
        assert feed.status_code == 401 and feed.headers["content-type"].startswith("application/problem+json")


def client_pages() -> list[str]:
    """A path for each route of the client's router (client/assets/js/main.js)."""
    main = (Path(__file__).resolve().parents[2] / "client" / "assets" / "js" / "main.js").read_text()
    patterns = re.findall(r"^\s*\[/\^(.*?)\$/,", main, flags=re.M)
    assert len(patterns) >= 10, "the route table of main.js is read"
    return [re.sub(r"\(\?:.*?\)\?", "", p).replace("([^/]+)", "0b6a").replace("\\/", "/") for p in patterns]


async def _filed_case_reaches_every_service(client):
    filed = await client.post("/intake/cases", json={"jurisdiction": "KZ", "category": "civil", "description": "d"})
    assert filed.status_code == 201, filed.text
    case_id = filed.json()["case"]["id"]
    party = {"Authorization": f"Bearer {filed.json()['access_token']}"}

    async def room_ready():
        r = await client.get(f"/sessions/rooms/{case_id}", headers=party)
        return r.status_code == 200 and r.json()["status"] == "awaiting_agreement_to_mediate"

    await eventually(room_ready, message="sessions prepared the room")
    feed = await eventually(lambda: _feed(client, party), message="notifications fed the party")
    assert feed[0]["kind"] == "case_filed" and feed[0]["case_id"] == case_id
    return case_id


async def _feed(client, headers):
    items = (await client.get("/notifications/feed", headers=headers)).json()["items"]
    return items or None


async def test_a_filed_case_flows_to_every_service_and_courts_see_only_their_referrals(tmp_path):
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="text")
    async with running(create_gateway(settings)) as client:
        await _filed_case_reaches_every_service(client)
        await _court_scoping(client)


async def test_the_same_flow_on_postgresql_and_kafka(tmp_path, kafka, pg_database_template, monkeypatch):
    base, names = pg_database_template
    for svc, name in names.items():
        monkeypatch.setenv(f"ODR_{svc.upper()}_DATABASE_URL", f"{base}/{name}")
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="text", bus="kafka",
                        kafka_bootstrap=kafka.bootstrap, kafka_client_id="odr-test")
    app = create_gateway(settings)
    for sub in app.state.services.values():
        assert sub.state.runtime.database_url.startswith("postgresql+asyncpg://")
    async with running(app) as client:
        ready = (await client.get("/readyz")).json()
        assert ready["status"] == "ready", ready
        await _filed_case_reaches_every_service(client)


async def _court_scoping(client):
    admin = await client.post("/intake/dev/token", json={"subject": "admin-1", "role": "admin"})
    admin_h = {"Authorization": f"Bearer {admin.json()['access_token']}"}
    secrets = {}
    for court in ("almaty-civil", "astana-civil"):
        created = await client.post("/intake/admin/court-clients", json={"court_id": court, "name": court}, headers=admin_h)
        assert created.status_code == 201, created.text
        secrets[court] = created.json()
    tokens = {}
    for court, creds in secrets.items():
        r = await client.post("/intake/auth/token", data={"grant_type": "client_credentials",
                                                          "client_id": creds["client_id"],
                                                          "client_secret": creds["client_secret"]})
        assert r.status_code == 200, r.text
        tokens[court] = {"Authorization": f"Bearer {r.json()['access_token']}"}
    bad = await client.post("/intake/auth/token", data={"grant_type": "client_credentials",
                                                        "client_id": secrets["almaty-civil"]["client_id"],
                                                        "client_secret": "wrong"})
    assert bad.status_code == 401 and bad.headers["content-type"] == "application/problem+json"

    referral = await client.post("/intake/court/v1/referrals", headers=tokens["almaty-civil"],
                                 json={"jurisdiction": "KZ", "category": "family", "description": "x",
                                       "docket_number": "2-1234/2026"})
    assert referral.status_code == 201, referral.text
    case_id = referral.json()["id"]

    async def listed():
        items = (await client.get("/agreements/court/v1/cases", headers=tokens["almaty-civil"])).json()["items"]
        return [i["case_id"] for i in items] == [case_id]

    await eventually(listed, message="agreements learned of the referral")
    assert (await client.get("/agreements/court/v1/cases", headers=tokens["astana-civil"])).json()["items"] == []
    assert (await client.get(f"/intake/cases/{case_id}", headers=tokens["almaty-civil"])).status_code == 200
    assert (await client.get(f"/intake/cases/{case_id}", headers=tokens["astana-civil"])).status_code == 404


async def test_background_work_lives_and_dies_with_the_service(tmp_path):
    import contextlib
    from dataclasses import replace

    from services.notifications.app import SPEC
    from shared.app import create_service_app

    lifecycle = []

    @contextlib.asynccontextmanager
    async def worker(runtime):
        lifecycle.append(("start", runtime.spec.name))
        yield
        lifecycle.append(("stop", runtime.spec.name))

    app = create_service_app(replace(SPEC, background=[worker]), Settings(data_dir=tmp_path, dev_mode=True),
                             configure_logs=False)
    async with running(app) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert lifecycle == [("start", "notifications")]
    assert lifecycle == [("start", "notifications"), ("stop", "notifications")]

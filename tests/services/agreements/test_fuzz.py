"""Nothing a client sends can crash agreements: schemathesis generates requests for every
operation of the OpenAPI document (valid and invalid bodies, paths, queries), sent as an admin, a
mediator, a party and a court; no answer may be a 5xx, and every 4xx is an RFC 9457 problem."""

from __future__ import annotations

import asyncio

import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st

from services.agreements.app import create_app
from tests.support.apps import running

from .conftest import Harness, settings_for


def test_generated_requests_never_get_a_server_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ODR_AGREEMENTS_DATABASE_URL", raising=False)
    loop = asyncio.new_event_loop()
    app = create_app(settings_for(tmp_path), configure_logs=False)
    cm = running(app)
    client = loop.run_until_complete(cm.__aenter__())
    try:
        h = Harness(app, client)
        done = loop.run_until_complete(h.executed(court="court-a"))
        case_id = done["case_id"]
        who = [h.admin(), h.mediator(case_id), h.claimant(case_id), h.court("court-a")]
        schema = schemathesis.openapi.from_dict(loop.run_until_complete(client.get("/openapi.json")).json())
        failures = []
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) > 25
        for operation in operations:
            @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy(), headers=st.sampled_from(who))
            def check(case, headers):
                kwargs = case.as_transport_kwargs(base_url="http://odr.test", headers=headers)
                kwargs.pop("cookies", None)
                r = loop.run_until_complete(client.request(**kwargs))
                if r.status_code >= 500:
                    failures.append((operation.label, r.status_code, r.text[:200]))
                elif r.status_code >= 400:
                    assert r.headers["content-type"] == "application/problem+json", (operation.label, r.text)

            check()
        assert failures == []
    finally:
        loop.run_until_complete(cm.__aexit__(None, None, None))
        loop.close()

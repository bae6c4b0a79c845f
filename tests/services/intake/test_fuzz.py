"""Nothing a client sends can crash intake: schemathesis generates requests for every operation
of the OpenAPI document (valid and invalid bodies, paths and queries), sent with an admin token and
with a party token, and every answer must be a non-5xx (4xx as an RFC 9457 problem)."""

from __future__ import annotations

import asyncio

import schemathesis
from hypothesis import HealthCheck, given, settings, strategies as st

from services.intake.app import create_app
from shared.config import Settings
from tests.support.apps import running

from .conftest import Driver


def test_generated_requests_never_get_a_server_error(tmp_path):
    loop = asyncio.new_event_loop()
    app = create_app(Settings(data_dir=tmp_path, dev_mode=True), configure_logs=False)
    cm = running(app)
    client = loop.run_until_complete(cm.__aenter__())
    try:
        d = Driver(client)
        admin = loop.run_until_complete(d.admin())
        _, party = loop.run_until_complete(d.file())
        schema = schemathesis.openapi.from_dict(loop.run_until_complete(client.get("/openapi.json")).json())
        failures = []
        operations = [op.ok() for op in schema.get_all_operations()]
        assert len(operations) > 30
        for operation in operations:
            @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            @given(case=operation.as_strategy(), who=st.sampled_from([admin, party]))
            def check(case, who):
                kwargs = case.as_transport_kwargs(base_url="http://odr.test", headers=who)
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

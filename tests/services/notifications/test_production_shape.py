"""The same service on PostgreSQL and Kafka: notices, email, a signed court webhook and a reminder,
once each even when the bus redelivers."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sqlalchemy import func, select

from services.notifications.models import Delivery, Notification, WebhookMessage
from shared.config import Settings
from shared.contracts import agreements as A
from shared.contracts import sessions as S
from tests.support.waiting import eventually

from .conftest import service
from .servers import WebhookReceiver
from .test_notices import agreed, feed, mailbox, set_email


async def test_postgresql_and_kafka(tmp_path, kafka, database_url, monkeypatch):
    if database_url.startswith("sqlite"):
        pytest.skip("the SQLite + embedded shape is what every other notifications test runs")
    monkeypatch.setenv("ODR_NOTIFICATIONS_DATABASE_URL", database_url)
    settings = Settings(data_dir=tmp_path, dev_mode=True, bus="kafka", kafka_bootstrap=kafka.bootstrap,
                        kafka_client_id="odr-test-notifications")
    receiver = WebhookReceiver()
    cid = "c-pg"
    async with receiver.running(), service(tmp_path, settings=settings) as svc:
        assert svc.runtime.database_url.startswith("postgresql")
        r = await svc.client.post("/court/v1/webhooks", json={"url": receiver.url},
                                  headers=svc.token("client", "court", court="court-1"))
        receiver.secrets.append(r.json()["secret"])
        await set_email(svc, "p-c", "claimant@example.org", cid)
        envs = await svc.publish(agreed(cid))
        await eventually(lambda: feed(svc, "p-c", cid), timeout=60, message="consumer joined and handled")
        envs += await svc.publish(
            S.SessionScheduled(case_id=cid, session_id="s-1",
                               starts_at=datetime.now(timezone.utc) + timedelta(seconds=3600 + 1)),
            A.AgreementSigned(case_id=cid, agreement_id="a-1", version=1, document_hash="h", court_id="court-1"))
        await eventually(lambda: len(receiver.deliveries) == 1, message="webhook")
        await eventually(lambda: _has(svc, cid, "session_reminder"), message="1 h reminder")
        await svc.republish(*envs)
        await svc.publish(A.DraftReady(case_id=cid, agreement_id="a-1", version=2))
        await eventually(lambda: _has(svc, cid, "draft_ready"), message="marker")
        # The broker is shared with other tests of the run: count this case's notices only.
        async with svc.runtime.session_factory() as s:
            ours = select(Notification.id).where(Notification.case_id == cid)
            notices = (await s.execute(select(func.count()).select_from(ours.subquery()))).scalar_one()
            deliveries = (await s.execute(select(func.count()).select_from(Delivery)
                                          .where(Delivery.notification_id.in_(ours)))).scalar_one()
            messages = (await s.execute(select(func.count()).select_from(WebhookMessage)
                                        .where(WebhookMessage.payload.contains(cid)))).scalar_one()
        # 4 people x (started, scheduled, reminder) + 3 (signed: not the interpreter) + 3 (draft), each once
        assert (notices, deliveries, messages) == (18, 18, 1)
        assert receiver.deliveries[0].verified and len(receiver.deliveries) == 1
        # Only the claimant gave an address: five emails, in Russian.
        mails = await eventually(lambda: _mails(svc, 5), message="emails")
        assert all(m["to"] == "claimant@example.org" and m["language"] == "ru" for m in mails)


async def _has(svc, cid, kind):
    return kind in [i["kind"] for i in await feed(svc, "p-c", cid)]


async def _mails(svc, n):
    items = await mailbox(svc)
    return len(items) == n and items

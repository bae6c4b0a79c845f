"""The notifications service as a child process for the kill -9 test: ``seed`` sets contact
details and publishes an event with several recipients, then lives until killed; ``resume``
just runs the service (its workers pick up what is left)."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import date

from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from shared.bus import Message
from shared.config import Settings
from shared.contracts.intake import MediationAgreed, Participant
from shared.events import envelope
from tests.support.apps import running


async def main(config: dict) -> None:
    settings = Settings(data_dir=config["data_dir"], dev_mode=True, log_format="json", log_level="WARNING")
    ns = NotificationsSettings(email_transport="smtp", smtp_host="127.0.0.1", smtp_port=config["smtp_port"],
                               delivery_poll_seconds=0.05, delivery_lease_seconds=1.0, delivery_retry_base_seconds=0.1,
                               scheduler_poll_seconds=0.5, webhook_poll_seconds=0.5)
    app = create_app(settings, notifications=ns, configure_logs=False)
    async with running(app) as client:
        rt = app.state.runtime
        if config["phase"] == "seed":
            people = [f"p-{i}" for i in range(config["recipients"])]
            admin = {"Authorization": "Bearer " + rt.tokens.issue(subject="ops", role="admin")}
            for p in people:
                r = await client.put(f"/contacts/{p}", json={"email": f"{p}@example.org"}, headers=admin)
                assert r.status_code == 200, r.text
            evt = MediationAgreed(case_id="case-crash", mediator_id="m-1", term_ends_on=date(2027, 1, 1),
                                  participants=[Participant(participant_id=p, role="party", side="claimant")
                                                for p in people])
            await rt.bus.publish([Message(topic=evt.topic, key=evt.case_id,
                                          value=envelope(evt, source="/odr/intake").to_bytes())])
            print("SEEDED", flush=True)
        else:
            print("RESUMED", flush=True)
        await asyncio.sleep(3600)


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))

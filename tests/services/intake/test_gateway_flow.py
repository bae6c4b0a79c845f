"""The intake flow in the embedded run (`odr dev` shape, all four services behind the gateway):
when the agreement to mediate is signed, the sessions room opens for the tokens intake issued."""

from __future__ import annotations

from shared.config import Settings
from odr.gateway import create_gateway
from tests.support.apps import running
from tests.support.waiting import eventually

from .test_flow import full_flow
from .conftest import Driver


async def test_signing_the_agreement_to_mediate_opens_the_room(tmp_path):
    async with running(create_gateway(Settings(data_dir=tmp_path, dev_mode=True, log_format="text"))) as client:
        case_id, claimant, respondent, mediator = await full_flow(Driver(client, "/intake"))

        async def room_open():
            r = await client.get(f"/sessions/rooms/{case_id}", headers=respondent)
            return r.status_code == 200 and r.json()["status"] == "open"

        await eventually(room_open, message="sessions opened the room after odr.mediation.agreed.v1")
        r = await client.get(f"/sessions/rooms/{case_id}", headers=mediator)
        assert r.status_code == 200

"""Several parties per side, and the people acting with them, each with a sign-in of their own
(embedded run: the four services behind the gateway, on SQLite and on PostgreSQL, mail over real
SMTP).

A claimant with a representative; two co-respondents, the second with an interpreter. Each of
them gets their own link by email, signs in as themselves (scoped to their case and side); the
interpreter reads the case and is a member of the room but is refused consent, screening and a
signature (403 problems); the case waits until every party has agreed to mediate, answered the
safety screening (itself) and signed the agreement to mediate; the settlement agreement has a signer slot per party and stays unsigned
until every party has signed; a representative's signature counts for the party it acts for and
for no other; another case's token and the other side's token are refused."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from odr.gateway import create_gateway
from services.agreements.models import CaseRef
from services.sessions.rooms import CAUCUSES, Member, RoomError, RoomState
from shared.auth import KeyRing, TokenService
from shared.config import Settings
from tests.services.agreements.conftest import complete_content
from tests.support.apps import running
from tests.support.databases import service_databases
from tests.support.waiting import eventually

from .conftest import KZ_CONSENT, Driver, bearer, calm_answers
from .test_reach import BASE, link_in, one_new_mail, smtp  # noqa: F401  (smtp is a fixture)

CLAIMANT, LAWYER = "aigerim@example.kz", "serik.bekov@bekov.kz"
FIRST, SECOND, INTERPRETER = "director@dala.kz", "yerlan@example.kz", "tilmash@example.kz"


def filing() -> dict:
    return {"jurisdiction": "KZ", "category": "civil", "description": "Unpaid invoice for deliveries", "parties": [
        {"side": "claimant", "kind": "natural_person", "name": "Aigerim Nurlanovna", "language": "kk",
         "id_number": "900101300123", "contact": {"email": CLAIMANT},
         "representatives": [{"name": "Serik Bekov", "organisation": "Bekov & Partners", "language": "ru",
                              "contact": {"email": LAWYER}}]},
        {"side": "respondent", "kind": "legal_entity", "name": "TOO Dala Trade", "language": "ru",
         "id_number": "180440012345", "contact": {"email": FIRST}},
        {"side": "respondent", "kind": "natural_person", "name": "Yerlan Dauletov", "language": "kk",
         "contact": {"email": SECOND},
         "interpreters": [{"name": "Dina Tilmash", "language": "kk", "contact": {"email": INTERPRETER}}]},
    ]}


async def sign_in(client, smtp, address: str, seen: int = 0) -> tuple[dict, dict]:
    """Follow the sign-in link in the ``seen``-th email to ``address``: (headers, the case opened)."""
    token = link_in(await one_new_mail(smtp, address, seen), "sign-in")
    r = await client.post("/intake/auth/links/exchange", json={"token": token})
    assert r.status_code == 200, r.text
    [opened] = r.json()["cases"]
    return bearer(opened["access_token"]), opened


def refused(r, status: int = 403) -> bool:
    return r.status_code == status and r.headers["content-type"].startswith("application/problem+json")


@pytest.fixture(params=["sqlite", "postgresql"])
async def store(request, monkeypatch):
    """The services' databases: SQLite files, or a PostgreSQL database of each service's own."""
    if request.param == "sqlite":
        yield request.param
        return
    async with service_databases() as (base, names):
        for service, name in names.items():
            monkeypatch.setenv(f"ODR_{service.upper()}_DATABASE_URL", f"{base}/{name}")
        yield request.param


async def test_each_person_signs_in_as_themselves_and_every_party_signs(tmp_path, smtp, store):
    settings = Settings(data_dir=tmp_path, dev_mode=True, log_format="text")
    gateway = create_gateway(settings)
    async with running(gateway) as client:
        d = Driver(client, "/intake")
        filed = await client.post("/intake/cases", json=filing())
        assert filed.status_code == 201, filed.text
        case = filed.json()["case"]
        case_id, claimant = case["id"], bearer(filed.json()["access_token"])
        ids = {(p["name"]): p["id"] for p in case["participants"]}

        # The claimant's representative gets a link of their own as soon as the case is filed.
        lawyer, opened = await sign_in(client, smtp, LAWYER)
        assert (opened["case_id"], opened["side"], opened["role"]) == (case_id, "claimant", "representative")
        seen = (await client.get(f"/intake/cases/{case_id}", headers=lawyer)).json()
        assert [p["name"] for p in seen["participants"] if p["side"] == "respondent" and p["role"] == "party"] == [
            "TOO Dala Trade", "Yerlan Dauletov"]

        # The respondents' first party answers the invitation; then the co-respondent and the
        # interpreter each get their own link.
        made = await d.invite(case_id, claimant)
        invitation = link_in(await one_new_mail(smtp, FIRST), "invitations")
        assert invitation == made["link_token"]
        answered = await client.post(f"/intake/invitations/{invitation}/answer",
                                     json={"decision": "consent", "text_version": KZ_CONSENT})
        assert answered.status_code == 200, answered.text
        first = bearer(answered.json()["access_token"])
        second, opened = await sign_in(client, smtp, SECOND)
        assert (opened["side"], opened["role"]) == ("respondent", "party")
        interpreter, opened = await sign_in(client, smtp, INTERPRETER)
        assert (opened["side"], opened["role"]) == ("respondent", "interpreter")
        # the interpreter reads the case, in their own right
        assert (await client.get(f"/intake/cases/{case_id}", headers=interpreter)).status_code == 200

        # Another case's token and the other side's token are refused.
        other_id, other_claimant = await d.file()
        assert refused(await client.get(f"/intake/cases/{case_id}", headers=other_claimant), 404)
        assert refused(await client.get(f"/intake/cases/{other_id}", headers=lawyer), 404)
        assert refused(await client.post(f"/intake/cases/{case_id}/invitations", json={"side": "respondent"},
                                         headers=second))

        # "Email me a link" reaches the interpreter too, as the interpreter.
        assert (await client.post("/intake/auth/email-links", json={"email": INTERPRETER})).status_code == 202
        again, opened = await sign_in(client, smtp, INTERPRETER, seen=1)
        assert (opened["case_id"], opened["role"]) == (case_id, "interpreter")

        # Every party agrees to mediate for itself: the case waits for the co-respondent, whose
        # interpreter cannot answer for him.
        case = (await client.get(f"/intake/cases/{case_id}", headers=second)).json()
        assert case["status"] == "awaiting_consent"
        assert case["progress"]["consented_sides"] == ["claimant"]
        assert set(case["progress"]["consented_parties"]) == {ids["Aigerim Nurlanovna"], ids["TOO Dala Trade"]}
        answer = {"decision": "consent", "text_version": KZ_CONSENT}
        assert refused(await client.post(f"/intake/cases/{case_id}/consents", json=answer, headers=interpreter))
        agreed = await client.post(f"/intake/cases/{case_id}/consents", json=answer, headers=second)
        assert agreed.status_code == 200, agreed.text
        assert agreed.json()["status"] == "screening"
        assert agreed.json()["progress"]["consented_sides"] == ["claimant", "respondent"]
        assert refused(await client.post(f"/intake/cases/{case_id}/consents", json=answer, headers=second), 409)

        # The interpreter takes part but does not decide: no screening answers, no signatures. Each
        # party answers the screening for itself (a person's is theirs alone: not the lawyer's).
        for who in (interpreter, lawyer):
            assert refused(await client.post(f"/intake/cases/{case_id}/screening", json=calm_answers(),
                                             headers=who))
        await d.screen(case_id, claimant)
        await d.screen(case_id, first)
        assert (await client.get(f"/intake/cases/{case_id}", headers=second)).json()["status"] == "screening"
        await d.screen(case_id, second)
        admin = await d.admin()
        mediator_id, username = await d.mediator(admin)
        mediator = await d.assign(case_id, lawyer, first, mediator_id, username)
        r = await client.post(f"/intake/cases/{case_id}/agreement-to-mediate/signatures",
                              json={"text_version": "KZ-atm-2023.1"}, headers=again)
        assert refused(r)
        for who in (lawyer, first, mediator):  # every party (or its representative) and the mediator
            await d.sign(case_id, who)
        assert (await client.get(f"/intake/cases/{case_id}", headers=second)).json()["status"] == "mediator_agreed"
        await d.sign(case_id, second)

        # The interpreter is a member of the room, on their own side only.
        async def room_open():
            r = await client.get(f"/sessions/rooms/{case_id}", headers=interpreter)
            return r.status_code == 200
        await eventually(room_open, timeout=60, message="the room opened for the interpreter")

        # The settlement agreement: a slot per party, signed by each (or its representative).
        agreements = gateway.state.services["agreements"].state.runtime

        async def parties_known():
            async with agreements.uow() as uow:
                ref = await uow.session.get(CaseRef, case_id)
                return ref is not None and ref.parties
        await eventually(parties_known, timeout=60, message="agreements learned the case's parties")
        content = complete_content(parties=[
            {"side": "claimant", "name": "Aigerim Nurlanovna", "identifier": "900101300123",
             "representative": "Serik Bekov", "participant_id": ids["Aigerim Nurlanovna"]},
            {"side": "respondent", "name": "TOO Dala Trade", "participant_id": ids["TOO Dala Trade"]},
            {"side": "respondent", "name": "Yerlan Dauletov", "participant_id": ids["Yerlan Dauletov"]}])
        draft = await client.post("/agreements/agreements", headers=mediator,
                                  json={"case_id": case_id, "language": "ru", "content": content})
        assert draft.status_code == 201, draft.text
        draft = draft.json()
        url = f"/agreements/agreements/{draft['id']}"
        sent = await client.post(f"{url}/signature-request", json={"version": 1}, headers=mediator)
        assert sent.status_code == 200, sent.text
        assert sent.json()["signers"] == [f"claimant:{ids['Aigerim Nurlanovna']}", f"respondent:{ids['TOO Dala Trade']}",
                                          f"respondent:{ids['Yerlan Dauletov']}", "mediator"]
        body = {"version": 1, "document_hash": draft["document_hash"]}

        async def sign(who) -> dict:
            r = await client.post(f"{url}/signatures", json=body, headers=who)
            assert r.status_code == 200, r.text
            return r.json()

        def signed(view) -> set[str]:
            return {s["slot"] for s in view["signatures"] if s["status"] == "valid"}

        assert refused(await client.post(f"{url}/signatures", json=body, headers=interpreter))
        # the representative signs for the claimant, and only for her
        view = await sign(lawyer)
        assert signed(view) == {f"claimant:{ids['Aigerim Nurlanovna']}"}
        [by_lawyer] = view["signatures"]
        assert by_lawyer["assurance"]["acting"] == "representative"
        assert by_lawyer["assurance"]["on_behalf_of"] == ids["Aigerim Nurlanovna"]
        assert by_lawyer["signer"] == ids["Serik Bekov"]
        view = await sign(claimant)  # the claimant's slot is already signed: nothing more
        assert len(view["signatures"]) == 1
        # the first respondent and the mediator sign: the second respondent has not, so not executed
        await sign(first)
        view = await sign(mediator)
        assert view["status"] == "signing"
        assert signed(view) == set(view["signers"]) - {f"respondent:{ids['Yerlan Dauletov']}"}
        view = await sign(second)
        assert view["status"] == "executed"

        # the PDF names each signer (a representative's signature says so)
        pdf = await client.get(f"{url}/pdf", headers=interpreter)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        text = " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages).split())
        signatures = text.split("Подписи", 1)[1]
        for line in ("Истец: Aigerim Nurlanovna (Представитель: Serik Bekov) · Время подписания",
                     "Ответчик: TOO Dala Trade · Время подписания", "Ответчик: Yerlan Dauletov · Время подписания"):
            assert line in signatures, text
        assert ids["Yerlan Dauletov"] not in text


def test_an_interpreter_is_never_placed_in_the_other_sides_caucus():
    room = RoomState(members={"m": Member("m", "mediator"), "c": Member("c", "party", "claimant"),
                              "r": Member("r", "party", "respondent"), "i": Member("i", "interpreter", "respondent")})
    room.apply("m", {"type": "session.start"})
    for side in ("claimant", "respondent"):
        room.apply("m", {"type": "caucus.open", "side": side})
    assert set(room.caucuses) == {c.split(":")[1] for c in CAUCUSES}
    room.apply("m", {"type": "move", "participant_id": "i", "to": "caucus:respondent"})
    with pytest.raises(RoomError) as err:
        room.apply("m", {"type": "move", "participant_id": "i", "to": "caucus:claimant"})
    assert err.value.code == "invalid-target"


def test_a_token_says_what_its_holder_is_and_tokens_from_before_are_the_partys_own():
    tokens = TokenService(KeyRing([KeyRing.generate_key()]))
    before = tokens.verify(tokens.issue(subject="p-1", role="party", cases=["c-1"], party_side="claimant"))
    assert (before.acting, before.party_id, before.may_act) == ("party", "p-1", True)
    lawyer = tokens.verify(tokens.issue(subject="r-1", role="party", cases=["c-1"], party_side="claimant",
                                        acting="representative", acting_for="p-1"))
    assert (lawyer.subject, lawyer.acting, lawyer.party_id, lawyer.may_act) == ("r-1", "representative", "p-1", True)
    interpreter = tokens.verify(tokens.issue(subject="i-1", role="party", cases=["c-1"], party_side="respondent",
                                             acting="interpreter", acting_for="p-2"))
    assert (interpreter.party_id, interpreter.may_act) == ("p-2", False)
    with pytest.raises(ValueError):
        tokens.issue(subject="x", role="party", cases=["c-1"], party_side="claimant", acting="judge")

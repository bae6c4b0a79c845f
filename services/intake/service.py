"""Intake use cases. Plain functions over a unit of work: routes stay thin and tests call these
directly."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime, timezone

from sqlalchemy import select

from shared.auth import Principal, TokenService, hash_secret, new_client_secret, verify_secret
from shared.contracts.intake import CaseFiled
from shared.problems import Forbidden, NotFound, Problem
from shared.uow import UnitOfWork

from .models import Case, CourtClient
from .schemas import CaseFiling, CaseView, CourtClientCreate, CourtClientCreated, CourtReferral


def _view(case: Case) -> CaseView:
    return CaseView(id=case.id, jurisdiction=case.jurisdiction, category=case.category, status=case.status,
                    court_id=case.court_id, docket_number=case.docket_number, filed_at=case.filed_at)


async def file_case(uow: UnitOfWork, *, filing: CaseFiling, filed_by: str, idempotency_key: str | None,
                    court_id: str | None = None) -> tuple[CaseView, bool]:
    """File (or, for a court, refer) a case. The same idempotency key from the same filer returns
    the case filed the first time instead of a second case. Returns (case, created)."""
    if idempotency_key:
        existing = (await uow.session.execute(
            select(Case).where(Case.filed_by == filed_by, Case.idempotency_key == idempotency_key)
        )).scalar_one_or_none()
        if existing is not None:
            return _view(existing), False
    case = Case(
        id=str(uuid.uuid4()), jurisdiction=filing.jurisdiction, category=filing.category, status="filed",
        description=filing.description, court_id=court_id,
        docket_number=filing.docket_number if isinstance(filing, CourtReferral) else None,
        filed_by=filed_by, idempotency_key=idempotency_key, filed_at=datetime.now(timezone.utc),
    )
    uow.session.add(case)
    uow.publish(CaseFiled(case_id=case.id, jurisdiction=case.jurisdiction, category=case.category,
                          court_id=court_id, filed_at=case.filed_at))
    await uow.commit()
    return _view(case), True


async def get_case(uow: UnitOfWork, *, case_id: str, principal: Principal) -> CaseView:
    case = await uow.session.get(Case, case_id)
    if case is None or not principal.can_access_case(case.id, court_id=case.court_id):
        raise NotFound("the case")  # no difference between "absent" and "not yours"
    return _view(case)


async def create_court_client(uow: UnitOfWork, *, request: CourtClientCreate) -> CourtClientCreated:
    secret = new_client_secret()
    client = CourtClient(client_id=f"court-{secrets.token_hex(8)}", court_id=request.court_id, name=request.name,
                         secret_hash=hash_secret(secret), created_at=datetime.now(timezone.utc))
    uow.session.add(client)
    await uow.commit()
    return CourtClientCreated(client_id=client.client_id, court_id=client.court_id, client_secret=secret)


async def rotate_court_client_secret(uow: UnitOfWork, *, client_id: str) -> CourtClientCreated:
    client = await uow.session.get(CourtClient, client_id)
    if client is None or client.revoked_at is not None:
        raise NotFound("the court client")
    secret = new_client_secret()
    client.secret_hash = hash_secret(secret)
    await uow.commit()
    return CourtClientCreated(client_id=client.client_id, court_id=client.court_id, client_secret=secret)


async def court_token(uow: UnitOfWork, *, tokens: TokenService, client_id: str, client_secret: str) -> str:
    """OAuth 2.0 client credentials for court clients: a court-scoped access token."""
    client = await uow.session.get(CourtClient, client_id)
    if client is None or client.revoked_at is not None or not verify_secret(client.secret_hash, client_secret):
        raise Problem(401, "invalid-client", "the client id or secret is not valid")
    return tokens.issue(subject=client.client_id, role="court", court=client.court_id)


def ensure_dev_mode(enabled: bool) -> None:
    if not enabled:
        raise Forbidden("dev tokens exist only when the embedded run is started with `odr dev`")

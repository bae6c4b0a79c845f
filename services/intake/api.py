"""Intake routes: thin, they parse, authorise and hand over to the domain module that holds the use
case (``filing``, ``consent``, ``screening``, ``register``, ``proposals``, ``mediation``, ``sittings``,
``accounts``; ``cases`` for reading a case). Each body comes from the same module as its use case."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Form, Header, Path, Query, Request, Response
from pydantic import ValidationError

from shared.auth import Principal, current_principal, require_roles
from shared.deps import runtime, unit_of_work
from shared.problems import Problem
from shared.ratelimit import RATE_LIMITED, client_address
from shared.service import ServiceRuntime
from shared.uow import UnitOfWork

from . import (accounts, cases, consent, eligibility, filing, mediation, personal, proposals, reach, recovery,
               register, revocation, screening, sittings)
from .accounts import (AccountCreate, AccountCreated, CourtClientCreate, CourtClientCreated, DevTokenRequest, Login,
                       PasswordChange, TotpCode, TotpSetup, TotpStatus)
from .consent import (ConsentView, InvitationAnswer, InvitationAnswered, InvitationCreate, InvitationCreated,
                      InvitationDelivery, InvitationSent, InvitationView, LinkExchange, PartyConsent, SignInLinkCreated,
                      SignInLinkRequest)
from .context import Ctx
from .filing import CaseFacts, CaseFiling, CourtReferral, DryRun, FiledCase
from .mediation import AgreementToMediateView, Extension, Signature, Termination
from .proposals import MediatorAccepted, MediatorDecision, ProposalCreate, ProposalView, Recusal
from .register import Candidate, MediatorCreate, MediatorProfile, MediatorView
from .schemas import CaseView, TokenResponse, TransitionView
from .screening import EligibilityReview, ScreeningAnswers, ScreeningReceived, ScreeningReport
from .sittings import AvailabilityAnswer, Calendar, SittingFix, SittingMove, SittingProposal, SittingView, UnavailableDates

router = APIRouter()
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100)]
CaseId = Annotated[str, Path(min_length=1, max_length=64)]
LinkToken = Annotated[str, Path(min_length=10, max_length=200)]
Lang = Annotated[Literal["kk", "ky", "ru", "en"] | None, Query(description="kk, ky, ru or en")]
Uow = Annotated[UnitOfWork, Depends(unit_of_work)]
Runtime = Annotated[ServiceRuntime, Depends(runtime)]
Anyone = Annotated[Principal, Depends(current_principal)]
Admin = Annotated[Principal, Depends(require_roles("admin"))]
Mediator = Annotated[Principal, Depends(require_roles("mediator"))]


# -- filing and reading a case ----------------------------------------------------------------------


@router.post("/cases", status_code=201, response_model=FiledCase, tags=["cases"])
async def file_case(body: CaseFiling, response: Response, uow: Uow, rt: Runtime, ctx: Ctx,
                    idempotency_key: IdempotencyKey = None) -> FiledCase:
    """File a case as a party (filing is the claimant's consent to mediate). Returns a short-lived
    token scoped to the new case. An ineligible case is refused with a 422 `case-ineligible`
    problem citing the law in the filer's language."""
    filer = f"party:{idempotency_key}" if idempotency_key else "party:anonymous"
    case, created = await filing.file_case(uow, filing=body, filed_by=filer, idempotency_key=idempotency_key,
                                           personal_vault=ctx.personal, key=ctx.courier)
    if not created:
        response.status_code = 200
    return FiledCase(case=case, access_token=filing.filer_token(rt.tokens, case))


@router.post("/court/v1/referrals", status_code=201, response_model=CaseView, tags=["court"])
async def refer_case(referral: CourtReferral, response: Response, uow: Uow,
                     principal: Annotated[Principal, Depends(require_roles("court"))], ctx: Ctx,
                     idempotency_key: IdempotencyKey = None) -> CaseView:
    """A court refers a case to mediation with its docket number, or a prosecutor or an investigator
    (or a court) a criminal case with the criminal case number; it then invites both sides."""
    case, created = await filing.file_case(uow, filing=referral, filed_by=principal.subject,
                                           idempotency_key=idempotency_key, court_id=principal.court,
                                           referred_by=await accounts.referring_body(uow, principal=principal),
                                           personal_vault=ctx.personal)
    if not created:
        response.status_code = 200
    return case


@router.get("/cases/{case_id}", response_model=CaseView, tags=["cases"])
async def get_case(case_id: CaseId, principal: Anyone, uow: Uow, ctx: Ctx, lang: Lang = None) -> CaseView:
    """The case as the caller may see it, explained in ``lang`` (else a party's own language). The
    assigned or proposed mediator also reads the dispute and who the people are (IIN/BIN)."""
    return await cases.get_case(uow, case_id=case_id, principal=principal, personal_vault=ctx.personal, lang=lang)


@router.get("/cases/{case_id}/history", response_model=list[TransitionView], tags=["cases"])
async def case_history(case_id: CaseId, principal: Anyone, uow: Uow) -> list[TransitionView]:
    """The audit trail: every status change, its reason and who caused it."""
    return await cases.case_history(uow, case_id=case_id, principal=principal)


@router.post("/cases/{case_id}/consents", response_model=CaseView, tags=["consent"])
async def consent_as_party(case_id: CaseId, body: PartyConsent, principal: Anyone, uow: Uow, ctx: Ctx) -> CaseView:
    """A co-claimant's or co-respondent's own answer (or its representative's for it), after the
    side's first party answered the invitation: the case moves on when every party has agreed."""
    return await consent.consent_as_party(uow, case_id=case_id, answer=body, principal=principal,
                                          personal_vault=ctx.personal)


@router.get("/cases/{case_id}/consents", response_model=list[ConsentView], tags=["consent"])
async def consents(case_id: CaseId, principal: Anyone, uow: Uow) -> list[ConsentView]:
    return await consent.consents(uow, case_id=case_id, principal=principal)


@router.post("/cases/{case_id}/termination", response_model=CaseView, tags=["cases"])
async def terminate(case_id: CaseId, body: Termination, principal: Anyone, uow: Uow, ctx: Ctx) -> CaseView:
    return await mediation.terminate(uow, case_id=case_id, termination=body, principal=principal,
                                     personal_vault=ctx.personal)


# -- eligibility -------------------------------------------------------------------------------------


@router.post("/eligibility/dry-run", response_model=DryRun, tags=["eligibility"])
async def dry_run(facts: CaseFacts, lang: Lang = None) -> DryRun:
    """Evaluate a hypothetical case against the current rule set. Nothing is stored."""
    return filing.dry_run(facts=facts, lang=lang or "en")


@router.get("/rulesets", tags=["eligibility"])
async def rule_sets() -> dict[str, Any]:
    """Every jurisdiction and version we have rules for (rule sets are public law)."""
    sets = eligibility.load_rule_sets()
    return {"items": [{"jurisdiction": j, "versions": sorted(v), "current": eligibility.current(j).version}
                      for j, v in sorted(sets.items())]}


@router.get("/rulesets/{jurisdiction}", tags=["eligibility"])
async def rule_set(jurisdiction: Annotated[str, Path(pattern=r"^[A-Z]{2}$")],
                   version: Annotated[str | None, Query(max_length=20)] = None) -> dict[str, Any]:
    rs = eligibility.by_ref(f"{jurisdiction}@{version}") if version else eligibility.current(jurisdiction)
    return rs.model_dump()


@router.post("/admin/rulesets/validate", tags=["admin"])
async def validate_rule_set(_: Admin, body: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Check a candidate rule set file before it is committed to ``services/intake/rulesets``."""
    if len(json.dumps(body)) > 500_000:
        raise Problem(413, "too-large", "a rule set is at most 500 kB")
    try:
        rs = eligibility.RuleSet.model_validate(body)
    except ValidationError as exc:
        raise Problem(422, "invalid-rule-set", "the rule set is not valid",
                      errors=[{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]) from None
    return {"valid": True, "ref": rs.ref, "case_rules": len(rs.case_rules), "mediator_rules": len(rs.mediator_rules)}


@router.post("/admin/cases/{case_id}/eligibility-review", response_model=CaseView, tags=["admin"])
async def review_eligibility(case_id: CaseId, body: EligibilityReview, principal: Admin, uow: Uow,
                             ctx: Ctx) -> CaseView:
    """Decide a case the rules marked `needs_review` (e.g. a grave crime under CC Art. 68(2))."""
    return await screening.review_eligibility(uow, case_id=case_id, review=body, principal=principal,
                                              personal_vault=ctx.personal)


# -- invitations, consent, sign-in -------------------------------------------------------------------


@router.post("/cases/{case_id}/invitations", status_code=201, response_model=InvitationCreated, tags=["consent"])
async def invite(case_id: CaseId, request: Request, principal: Anyone, uow: Uow, ctx: Ctx,
                 body: InvitationCreate | None = None) -> InvitationCreated:
    """Invite a side by a one-time link, answerable within the jurisdiction's window (KZ: 10
    calendar days, Art. 20(6)). The link is returned once, to the caller, who passes it on, and
    the platform emails it to the invited party when the filing gave their address; only its hash
    is stored, and it travels to notifications only sealed for it, never in the clear in an event."""
    side = (body or InvitationCreate()).side
    created, token = await consent.invite(uow, case_id=case_id, side=side, principal=principal, key=ctx.courier,
                                          personal_vault=ctx.personal)
    created.link = str(request.url_for("view_invitation", token=token))
    return created


@router.post("/cases/{case_id}/invitations/delivery", status_code=202, response_model=InvitationSent,
             tags=["consent"], responses=RATE_LIMITED)
async def send_invitation(case_id: CaseId, body: InvitationDelivery, request: Request, principal: Anyone, uow: Uow,
                          ctx: Ctx) -> InvitationSent:
    """ "Send it for me": the platform emails the live invitation link (the one already given stays
    valid) to the address typed, in the invited party's language (`409 no-live-invitation` when
    there is none: make one first). Limited like sign-in links, per case side and per address."""
    async with ctx.limits.sign_in_link(case_id=case_id, side=f"invite-{body.side}", address=client_address(request)):
        return await consent.send_invitation(uow, case_id=case_id, delivery=body, principal=principal,
                                             key=ctx.courier, personal_vault=ctx.personal)


@router.get("/invitations/{token}", response_model=InvitationView, tags=["consent"], name="view_invitation",
            responses=RATE_LIMITED)
async def view_invitation(token: LinkToken, request: Request, uow: Uow, ctx: Ctx, lang: Lang = None) -> InvitationView:
    """What the invited party sees: the case's classification, the deadline and the consent text."""
    async with ctx.limits.link(address=client_address(request)):
        return await consent.view_invitation(uow, token=token, lang=lang)


@router.post("/invitations/{token}/answer", response_model=InvitationAnswered, tags=["consent"], responses=RATE_LIMITED)
async def answer_invitation(token: LinkToken, body: InvitationAnswer, request: Request, uow: Uow, rt: Runtime,
                            ctx: Ctx) -> InvitationAnswered:
    """Consent (answer carries a token for this party) or decline (the case closes as declined)."""
    async with ctx.limits.link(address=client_address(request)):
        return await consent.answer_invitation(uow, token=token, answer=body, tokens=rt.tokens, key=ctx.courier,
                                               personal_vault=ctx.personal)


@router.post("/cases/{case_id}/sign-in-links", status_code=202, response_model=SignInLinkCreated, tags=["auth"],
             responses=RATE_LIMITED)
async def request_sign_in_link(case_id: CaseId, body: SignInLinkRequest, request: Request, uow: Uow, rt: Runtime,
                               ctx: Ctx) -> SignInLinkCreated:
    """A returning party asks for a one-time sign-in link (30 minutes), for an open or a closed
    case. The platform sends it to the party's contact (email, or SMS); only in dev mode is it
    also returned here. No token is needed (the answer carries nothing), but each side of a case
    and each address may ask only a few times an hour (`ODR_RATE_LIMIT_SIGN_IN_LINKS*`), and a
    new link voids the side's earlier ones."""
    async with ctx.limits.sign_in_link(case_id=case_id, side=body.side, address=client_address(request)):
        return await consent.request_sign_in_link(uow, case_id=case_id, side=body.side, dev_mode=rt.settings.dev_mode,
                                                  key=ctx.courier, personal_vault=ctx.personal)


@router.post("/auth/email-links", status_code=202, response_model=reach.EmailLinkAccepted, tags=["auth"],
             responses=RATE_LIMITED)
async def email_me_a_link(body: reach.EmailLinkRequest, request: Request, uow: Uow, ctx: Ctx) -> reach.EmailLinkAccepted:
    """ "Email me a link": one sign-in link (30 minutes) to every case the address belongs to, open
    or closed, sent to that address. The answer is the same whether the address is known or not;
    each address and each client may ask only a few times an hour (`ODR_RATE_LIMIT_SIGN_IN_LINKS*`).
    The link is never in the answer, not even in dev mode."""
    async with ctx.limits.email_link(email_hash=ctx.personal.lookup_hash("email", body.email),
                                     address=client_address(request)):
        return await reach.email_me_a_link(uow, request=body, personal_vault=ctx.personal, key=ctx.courier)


@router.post("/auth/links/exchange", response_model=reach.LinkSignIn, tags=["auth"], responses=RATE_LIMITED)
async def exchange_link(body: LinkExchange, request: Request, uow: Uow, rt: Runtime, ctx: Ctx) -> reach.LinkSignIn:
    """Trade a one-time sign-in link for short-lived tokens: a case's link for one scoped to that
    case and side; an address's link ("email me a link") for one per case the address belongs to
    (`cases`), closed cases included, read-only."""
    async with ctx.limits.link(address=client_address(request)):
        return await consent.exchange_link(uow, token=body.token, tokens=rt.tokens)


# -- safety screening --------------------------------------------------------------------------------


@router.get("/screening/questionnaire", tags=["screening"])
async def questionnaire(lang: Lang = None) -> dict[str, Any]:
    return screening.questionnaire(lang or "ru")


@router.post("/cases/{case_id}/screening", status_code=201, response_model=ScreeningReceived, tags=["screening"])
async def submit_screening(case_id: CaseId, body: ScreeningAnswers, principal: Anyone, uow: Uow,
                           ctx: Ctx) -> ScreeningReceived:
    """A party's private answers. They are encrypted at once and only the assigned mediator can read them."""
    return await screening.submit_screening(uow, case_id=case_id, principal=principal, answers=body, vault=ctx.vault)


@router.get("/cases/{case_id}/screening", response_model=list[ScreeningReport], tags=["screening"])
async def read_screenings(case_id: CaseId, principal: Mediator, uow: Uow,
                          ctx: Ctx) -> list[ScreeningReport]:
    """The assigned mediator reads every party's answers, each under the party's name."""
    return await screening.read_screenings(uow, case_id=case_id, principal=principal, vault=ctx.vault,
                                           personal_vault=ctx.personal)


# -- accounts and the mediator register ---------------------------------------------------------------


@router.post("/admin/accounts", status_code=201, response_model=AccountCreated, tags=["admin"])
async def create_account(body: AccountCreate, _: Admin, uow: Uow) -> AccountCreated:
    return await accounts.create_account(uow, request=body)


@router.post("/auth/login", response_model=TokenResponse, tags=["auth"], responses=RATE_LIMITED)
async def login(body: Login, request: Request, uow: Uow, rt: Runtime, ctx: Ctx) -> TokenResponse:
    """Mediators and administrators sign in with a password (argon2), plus the authenticator
    code, or a recovery code, if they turned two-step sign-in on (`totp-required` says the code
    is missing). Failed attempts are limited per account and per address (429 with `Retry-After`;
    past the limit even the right password waits for the window to end)."""
    async with ctx.limits.sign_in(username=body.username, address=client_address(request)):
        access = await accounts.login(uow, username=body.username, password=body.password, tokens=rt.tokens,
                                      totp_vault=ctx.totp_vault, totp_code=body.totp_code,
                                      recovery_code=body.recovery_code)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)


@router.get("/auth/totp", response_model=TotpStatus, tags=["auth"])
async def totp_status(principal: Anyone, uow: Uow) -> TotpStatus:
    """Whether two-step sign-in is on for your staff account, and how many recovery codes are left."""
    return await accounts.totp_status(uow, principal=principal)


@router.post("/auth/totp", status_code=201, response_model=TotpSetup, tags=["auth"])
async def totp_begin(principal: Anyone, uow: Uow, ctx: Ctx) -> TotpSetup:
    """Start two-step sign-in for your staff account: scan the QR code (or type the secret) into an
    authenticator app, then confirm with its first code."""
    return await accounts.totp_begin(uow, principal=principal, vault=ctx.totp_vault)


@router.post("/auth/totp/confirm", response_model=recovery.RecoveryCodes, tags=["auth"], responses=RATE_LIMITED)
async def totp_confirm(body: TotpCode, request: Request, principal: Anyone, uow: Uow,
                       ctx: Ctx) -> recovery.RecoveryCodes:
    """The app's first code turns two-step sign-in on. The answer holds the recovery codes, shown
    this once: each signs in once instead of an authenticator code."""
    async with ctx.limits.second_factor(account_id=principal.subject, address=client_address(request)):
        codes = await accounts.totp_confirm(uow, principal=principal, vault=ctx.totp_vault, code=body.code)
    return recovery.RecoveryCodes(recovery_codes=codes)


@router.post("/auth/totp/recovery-codes", response_model=recovery.RecoveryCodes, tags=["auth"],
             responses=RATE_LIMITED)
async def renew_recovery_codes(body: TotpCode, request: Request, principal: Anyone, uow: Uow,
                               ctx: Ctx) -> recovery.RecoveryCodes:
    """New recovery codes for a current authenticator code; the earlier ones stop working."""
    async with ctx.limits.second_factor(account_id=principal.subject, address=client_address(request)):
        codes = await accounts.renew_recovery_codes(uow, principal=principal, vault=ctx.totp_vault, code=body.code)
    return recovery.RecoveryCodes(recovery_codes=codes)


@router.post("/auth/totp/disable", status_code=204, tags=["auth"], responses=RATE_LIMITED)
async def totp_disable(body: TotpCode, request: Request, principal: Anyone, uow: Uow,
                       ctx: Ctx) -> Response:
    async with ctx.limits.second_factor(account_id=principal.subject, address=client_address(request)):
        await accounts.totp_disable(uow, principal=principal, vault=ctx.totp_vault, code=body.code)
    return Response(status_code=204)


@router.post("/auth/refresh", response_model=TokenResponse, tags=["auth"])
async def refresh(principal: Anyone, uow: Uow, rt: Runtime) -> TokenResponse:
    """Trade a still-valid token for a fresh one with the same scope (a mediator's cases are
    read anew). Possible for `ODR_SESSION_MAX_SECONDS` after signing in; then sign in again."""
    access = await accounts.refresh(uow, principal=principal, tokens=rt.tokens,
                                    session_max_seconds=rt.settings.session_max_seconds)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)


@router.post("/auth/sign-out", status_code=204, tags=["auth"])
async def sign_out(principal: Anyone, uow: Uow, rt: Runtime) -> Response:
    """This token stops working on every service and closes the rooms it has open (4012)."""
    await revocation.sign_out(uow, principal=principal, tokens=rt.tokens, revocations=rt.tokens.revocations)
    return Response(status_code=204)


@router.post("/auth/sign-out-everywhere", status_code=204, tags=["auth"])
async def sign_out_everywhere(principal: Anyone, uow: Uow, rt: Runtime) -> Response:
    """Every token of yours issued until now stops working, on every device and service."""
    await revocation.sign_out_everywhere(uow, principal=principal, tokens=rt.tokens, revocations=rt.tokens.revocations)
    return Response(status_code=204)


@router.post("/auth/password", response_model=TokenResponse, tags=["auth"], responses=RATE_LIMITED)
async def change_password(body: PasswordChange, request: Request, principal: Anyone, uow: Uow, rt: Runtime,
                          ctx: Ctx) -> TokenResponse:
    """Mediators and administrators change their password; every token issued before stops
    working, and the answer carries a fresh one. Wrong current passwords count like failed
    sign-ins (429)."""
    async with ctx.limits.current_password(account_id=principal.subject, address=client_address(request)):
        access = await accounts.change_password(uow, principal=principal, change=body, tokens=rt.tokens,
                                                revocations=rt.tokens.revocations)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)


@router.post("/admin/accounts/{account_id}/disable", response_model=AccountCreated, tags=["admin"])
async def disable_account(account_id: Annotated[str, Path(max_length=40)], principal: Admin, uow: Uow,
                          rt: Runtime) -> AccountCreated:
    """A disabled account cannot sign in or refresh, and its tokens stop working everywhere."""
    return await accounts.disable_account(uow, account_id=account_id, principal=principal, tokens=rt.tokens,
                                          revocations=rt.tokens.revocations)


@router.post("/admin/mediators", status_code=201, response_model=MediatorView, tags=["admin"])
async def create_mediator(body: MediatorCreate, _: Admin, uow: Uow) -> MediatorView:
    return await register.create_mediator(uow, request=body)


@router.put("/admin/mediators/{mediator_id}", response_model=MediatorView, tags=["admin"])
async def update_mediator(mediator_id: Annotated[str, Path(max_length=40)], body: MediatorProfile, _: Admin,
                          uow: Uow) -> MediatorView:
    return await register.update_mediator(uow, mediator_id=mediator_id, profile=body)


@router.post("/admin/participants/lookup", response_model=list[personal.ParticipantMatch], tags=["admin"])
async def lookup_participants(body: personal.Lookup, _: Admin, uow: Uow, ctx: Ctx) -> list[personal.ParticipantMatch]:
    """The cases a person takes part in, by IIN/BIN or email, found through keyed hashes (the
    values are sealed at rest). A POST, so the number never lands in an access log."""
    return await personal.lookup(uow, query=body, personal_vault=ctx.personal)


@router.get("/admin/mediators", response_model=list[MediatorView], tags=["admin"])
async def list_mediators(_: Admin, uow: Uow) -> list[MediatorView]:
    return await register.list_mediators(uow)


@router.get("/cases/{case_id}/mediator-candidates", response_model=list[Candidate], tags=["mediators"])
async def candidates(case_id: CaseId, principal: Anyone, uow: Uow, ctx: Ctx, lang: Lang = None) -> list[Candidate]:
    """Mediators who may take this case, best match first (language, specialisation, load), with
    the reasons in ``lang`` (else the party's own language)."""
    return await register.candidates(uow, case_id=case_id, principal=principal, personal_vault=ctx.personal,
                                     lang=lang)


@router.post("/cases/{case_id}/mediator-proposals", status_code=201, response_model=ProposalView, tags=["mediators"])
async def propose(case_id: CaseId, body: ProposalCreate, principal: Anyone, uow: Uow, ctx: Ctx) -> ProposalView:
    return await proposals.propose_mediator(uow, case_id=case_id, mediator_id=body.mediator_id, principal=principal,
                                            personal_vault=ctx.personal)


@router.get("/cases/{case_id}/mediator-proposals", response_model=list[ProposalView], tags=["mediators"])
async def case_proposals(case_id: CaseId, principal: Anyone, uow: Uow) -> list[ProposalView]:
    """The case's proposals, newest first: the other party answers the open one."""
    return await proposals.case_proposals(uow, case_id=case_id, principal=principal)


@router.post("/cases/{case_id}/mediator-proposals/{proposal_id}/accept", response_model=ProposalView,
             tags=["mediators"])
async def accept_proposal(case_id: CaseId, proposal_id: CaseId, principal: Anyone, uow: Uow) -> ProposalView:
    return await proposals.answer_proposal(uow, case_id=case_id, proposal_id=proposal_id, accept=True,
                                           principal=principal)


@router.post("/cases/{case_id}/mediator-proposals/{proposal_id}/reject", response_model=ProposalView,
             tags=["mediators"])
async def reject_proposal(case_id: CaseId, proposal_id: CaseId, principal: Anyone, uow: Uow) -> ProposalView:
    return await proposals.answer_proposal(uow, case_id=case_id, proposal_id=proposal_id, accept=False,
                                           principal=principal)


@router.post("/cases/{case_id}/mediator-proposals/{proposal_id}/decision", response_model=MediatorAccepted,
             tags=["mediators"])
async def mediator_decision(case_id: CaseId, proposal_id: CaseId, body: MediatorDecision, principal: Mediator,
                            uow: Uow, rt: Runtime, ctx: Ctx) -> MediatorAccepted:
    """The proposed mediator accepts with the impartiality declaration, or declines."""
    proposal, token = await proposals.mediator_decides(uow, case_id=case_id, proposal_id=proposal_id, decision=body,
                                                       principal=principal, tokens=rt.tokens,
                                                       personal_vault=ctx.personal)
    return MediatorAccepted(proposal=proposal, access_token=token)


@router.get("/mediator/proposals", response_model=list[ProposalView], tags=["mediators"])
async def my_proposals(principal: Mediator, uow: Uow) -> list[ProposalView]:
    return await proposals.mediator_proposals(uow, principal=principal)


@router.post("/cases/{case_id}/mediator/recusal", response_model=CaseView, tags=["mediators"])
async def recuse(case_id: CaseId, body: Recusal, principal: Anyone, uow: Uow, rt: Runtime, ctx: Ctx) -> CaseView:
    """The assigned mediator recuses, or a party asks for a replacement."""
    return await proposals.recuse(uow, case_id=case_id, reason=body.reason, principal=principal, tokens=rt.tokens,
                                  revocations=rt.tokens.revocations, personal_vault=ctx.personal)


# -- agreement to mediate -----------------------------------------------------------------------------


@router.get("/cases/{case_id}/agreement-to-mediate", response_model=AgreementToMediateView, tags=["agreement to mediate"])
async def agreement_to_mediate(case_id: CaseId, principal: Anyone, uow: Uow,
                               lang: Lang = None) -> AgreementToMediateView:
    """The text to sign, in ``lang`` (the reader's page), else a party's own language."""
    return await mediation.agreement_to_mediate(uow, case_id=case_id, principal=principal, lang=lang)


@router.post("/cases/{case_id}/agreement-to-mediate/signatures", status_code=201,
             response_model=AgreementToMediateView, tags=["agreement to mediate"])
async def sign_agreement_to_mediate(case_id: CaseId, body: Signature, principal: Anyone,
                                    uow: Uow) -> AgreementToMediateView:
    """Every party (or its representative for it) and the mediator sign, each in its own slot; the term of
    mediation starts the day the last one signs."""
    return await mediation.sign_agreement_to_mediate(uow, case_id=case_id, text_version=body.text_version,
                                                     principal=principal)


@router.post("/cases/{case_id}/term-extensions", response_model=CaseView, tags=["agreement to mediate"])
async def extend_term(case_id: CaseId, body: Extension, principal: Anyone, uow: Uow, ctx: Ctx) -> CaseView:
    return await mediation.extend_term(uow, case_id=case_id, extension=body, principal=principal,
                                       personal_vault=ctx.personal)


# -- the calendar: sittings ---------------------------------------------------------------------------

SittingId = Annotated[str, Path(min_length=1, max_length=36)]


@router.get("/cases/{case_id}/sittings", response_model=Calendar, tags=["sittings"])
async def case_calendar(case_id: CaseId, principal: Anyone, uow: Uow) -> Calendar:
    """The case's sittings, the next one, the term they must fall within and its time zone. A party
    sees its own side's answers and unavailable dates; the mediator sees everyone's."""
    return await sittings.calendar(uow, case_id=case_id, principal=principal)


@router.post("/cases/{case_id}/sittings", status_code=201, response_model=SittingView, tags=["sittings"])
async def propose_sitting(case_id: CaseId, body: SittingProposal, principal: Anyone, uow: Uow) -> SittingView:
    """The case's mediator proposes one or several times for a sitting, each within the term of
    mediation (else 422 `sitting-outside-term` with the rule's citation)."""
    return await sittings.propose(uow, case_id=case_id, proposal=body, principal=principal)


@router.put("/cases/{case_id}/sittings/{sitting_id}/availability", response_model=SittingView, tags=["sittings"])
async def answer_sitting(case_id: CaseId, sitting_id: SittingId, body: AvailabilityAnswer, principal: Anyone,
                         uow: Uow) -> SittingView:
    """A party answers, per proposed slot, whether its side can attend."""
    return await sittings.answer(uow, case_id=case_id, sitting_id=sitting_id, answer=body, principal=principal)


@router.put("/cases/{case_id}/unavailable-dates", response_model=list[date], tags=["sittings"])
async def unavailable_dates(case_id: CaseId, body: UnavailableDates, principal: Anyone, uow: Uow) -> list[date]:
    """A party lists the days (in the case's time zone) its side cannot attend; no sitting is fixed on them."""
    return await sittings.set_unavailable_dates(uow, case_id=case_id, dates=body, principal=principal)


@router.post("/cases/{case_id}/sittings/{sitting_id}/fix", response_model=SittingView, tags=["sittings"])
async def fix_sitting(case_id: CaseId, sitting_id: SittingId, body: SittingFix, principal: Anyone,
                      uow: Uow) -> SittingView:
    """The mediator fixes the sitting at one of its slots; everyone gets a calendar invitation. A
    slot a party cannot attend is refused (409 `party-unavailable`)."""
    return await sittings.fix(uow, case_id=case_id, sitting_id=sitting_id, fix=body, principal=principal)


@router.post("/cases/{case_id}/sittings/{sitting_id}/move", response_model=SittingView, tags=["sittings"])
async def move_sitting(case_id: CaseId, sitting_id: SittingId, body: SittingMove, principal: Anyone,
                       uow: Uow) -> SittingView:
    """The mediator moves a fixed sitting: the invitation is updated and the reminders follow."""
    return await sittings.move(uow, case_id=case_id, sitting_id=sitting_id, move=body, principal=principal)


@router.post("/cases/{case_id}/sittings/{sitting_id}/cancel", response_model=SittingView, tags=["sittings"])
async def cancel_sitting(case_id: CaseId, sitting_id: SittingId, principal: Anyone, uow: Uow) -> SittingView:
    """The mediator cancels a sitting: a fixed one's invitation is withdrawn and its reminders removed."""
    return await sittings.cancel(uow, case_id=case_id, sitting_id=sitting_id, principal=principal)


# -- courts and tokens --------------------------------------------------------------------------------


@router.post("/admin/court-clients", status_code=201, response_model=CourtClientCreated, tags=["admin"])
async def create_court_client(body: CourtClientCreate, _: Admin, uow: Uow) -> CourtClientCreated:
    return await accounts.create_court_client(uow, request=body)


@router.post("/admin/court-clients/{client_id}/rotate", response_model=CourtClientCreated, tags=["admin"])
async def rotate_court_client(client_id: Annotated[str, Path(max_length=64)], _: Admin, uow: Uow,
                              rt: Runtime) -> CourtClientCreated:
    """A new secret, shown once; tokens issued with the old one stop working at once."""
    return await accounts.rotate_court_client_secret(uow, client_id=client_id, tokens=rt.tokens,
                                                     revocations=rt.tokens.revocations)


@router.post("/auth/token", response_model=TokenResponse, tags=["auth"], responses=RATE_LIMITED)
async def token(grant_type: Annotated[str, Form(pattern="^client_credentials$")],
                client_id: Annotated[str, Form(max_length=64)], client_secret: Annotated[str, Form(max_length=200)],
                request: Request, uow: Uow, rt: Runtime, ctx: Ctx) -> TokenResponse:
    """OAuth 2.0 client credentials grant for court clients (failed secrets limited per client and address)."""
    async with ctx.limits.court_client(client_id=client_id, address=client_address(request)):
        access = await accounts.court_token(uow, tokens=rt.tokens, client_id=client_id,
                                            client_secret=client_secret)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)


@router.post("/dev/token", response_model=TokenResponse, tags=["dev"], include_in_schema=False)
async def dev_token(body: DevTokenRequest, rt: Runtime) -> TokenResponse:
    """Any token, for trying the system out. Exists only in explicit dev mode (`odr dev`)."""
    accounts.ensure_dev_mode(rt.settings.dev_mode)
    access = rt.tokens.issue(subject=body.subject, role=body.role, cases=body.cases, court=body.court,
                             party_side=body.party_side if body.role == "party" else None)
    return TokenResponse(access_token=access, expires_in=rt.tokens.ttl_seconds)


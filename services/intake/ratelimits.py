"""How often intake lets anyone try a password, a code, a client secret or a link, and ask for a
sign-in link (``shared.ratelimit``; the numbers are settings, ``ODR_RATE_LIMIT_*``).

- Failed sign-ins count per staff account (by username, also for names that do not exist, so the
  answer tells nothing about which do) and failed secrets per court client: past the limit the
  account is refused until the window ends, whatever the password.
- Failed sign-in, code and link attempts count per client address, all endpoints together: one
  address cannot spray passwords over many accounts or guess link tokens.
- Sign-in links count every request, per case side (the party's contact is not flooded) and per
  address; "email me a link" per email address (known or not) and per client address. The caller proves nothing: the link goes only to the contact given at filing and is
  not in the answer (except in dev mode), so the limit is what stands between a caller who knows
  the case id and the party's inbox.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from shared.config import Settings
from shared.problems import Problem
from shared.ratelimit import DatabaseStorage, Limiter, Rule
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncEngine


def _failed(exc: BaseException) -> bool:
    """Every refusal counts, except a right password that still needs its authenticator code
    (``totp-required``, raised before anything is written, so giving the unit back cannot wait
    on the request's own write lock in SQLite)."""
    return not (isinstance(exc, Problem) and exc.code == "totp-required")


class IntakeLimits:
    def __init__(self, *, settings: Settings, engine: AsyncEngine, table: Table) -> None:
        self.limiter = Limiter(DatabaseStorage(engine=engine, table=table))
        self.account = Rule("sign-in:account", settings.rate_limit_sign_in_account)
        self.address = Rule("failures:address", settings.rate_limit_sign_in_address)
        self.links_side = Rule("sign-in-links:side", settings.rate_limit_sign_in_links, failures_only=False)
        self.links_address = Rule("sign-in-links:address", settings.rate_limit_sign_in_links_address,
                                  failures_only=False)
        self.email_links = Rule("email-links:email", settings.rate_limit_sign_in_links, failures_only=False)

    @contextlib.asynccontextmanager
    async def _guard(self, *checks: tuple[Rule, str], detail: str) -> AsyncIterator[None]:
        async with self.limiter.guard(*checks, failed=_failed, detail=detail):
            yield

    def sign_in(self, *, username: str, address: str):
        """A staff sign-in (password, then authenticator or recovery code)."""
        return self._guard((self.account, f"staff:{username.lower()}"), (self.address, address),
                           detail="too many failed sign-ins; wait before trying again")

    def second_factor(self, *, account_id: str, address: str):
        """Codes a signed-in staff member types to confirm, turn off or renew two-step sign-in."""
        return self._guard((self.account, f"staff-id:{account_id}"), (self.address, address),
                           detail="too many wrong codes; wait before trying again")

    def current_password(self, *, account_id: str, address: str):
        """The current password a signed-in staff member types to change it (``/auth/password``)."""
        return self._guard((self.account, f"staff-id:{account_id}"), (self.address, address),
                           detail="too many wrong passwords; wait before trying again")

    def court_client(self, *, client_id: str, address: str):
        """The client credentials grant."""
        return self._guard((self.account, f"court:{client_id}"), (self.address, address),
                           detail="too many failed attempts for this client; wait before trying again")

    def link(self, *, address: str):
        """Opening, answering or exchanging a one-time link (invitation or sign-in)."""
        return self._guard((self.address, address), detail="too many invalid links; wait before trying again")

    def sign_in_link(self, *, case_id: str, side: str, address: str):
        """Asking for a sign-in link to be sent."""
        return self._guard((self.links_side, f"{case_id}:{side}"), (self.links_address, address),
                           detail="a sign-in link was asked for too often; use the last one sent or wait")

    def email_link(self, *, email_hash: str | None, address: str):
        """ "Email me a link": per email address (by its keyed hash, known or not, so the limit
        says nothing about which addresses are known) and per client address."""
        return self._guard((self.email_links, f"email:{email_hash}"), (self.links_address, address),
                           detail="a sign-in link was asked for too often; use the last one sent or wait")

    async def purge(self) -> int:
        return await self.limiter.storage.purge_expired()

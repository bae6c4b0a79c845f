"""Outbound HTTP to court webhook endpoints: only to public addresses, checked at every request.

A court names its endpoint; the platform then makes requests from inside the deployment. Without
care, a URL can point those requests at the platform itself or its network: ``127.0.0.1`` in any
of its spellings (``2130706433``, ``127.1``, ``0x7f.0.0.1``, ``0``: the system resolver reads them
all as IPv4), ``[::ffff:127.0.0.1]``, a private or link-local range (cloud metadata at
169.254.169.254), or a name whose DNS answer is (or later becomes) such an address. So:

- the host is resolved **when each request is made**, and every address of the answer must be
  public (:func:`is_public`: not loopback, private, link-local, multicast, reserved,
  unspecified or shared, IPv4 or IPv6, including IPv4 embedded in IPv6);
- the connection goes to the address that was checked (the URL's host becomes that address; the
  ``Host`` header and the TLS server name stay the court's name, so the certificate is verified
  against it), so a DNS answer that changes between check and connect (rebinding) cannot send the
  request elsewhere;
- no keep-alive: a connection is never reused for another name that shares its address;
- redirects are never followed (the client is made with ``follow_redirects=False``; a 3xx is a
  failed attempt).

Development and tests reach local receivers with ``allow_private``, which the service allows only
in dev mode (``ODR_NOTIFICATIONS_WEBHOOK_ALLOW_INSECURE_URLS`` with ``ODR_DEV_MODE``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[Address]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class BlockedAddress(httpx.TransportError):
    """The endpoint's host is, or resolves to, an address the platform does not send to."""


def is_public(address: Address) -> bool:
    """Globally routable unicast, and for IPv6 any IPv4 address it carries is public too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address in _NAT64:  # DNS64's synthesized address of an IPv4 host: that host decides
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
        if int(address) >> 32 == 0:  # the old IPv4-compatible ::a.b.c.d
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(e is not None and not is_public(e) for e in embedded):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (address.is_private or address.is_loopback or address.is_link_local
                                      or address.is_multicast or address.is_reserved or address.is_unspecified)


def literal_address(host: str) -> Address | None:
    """The address a host names literally, in any spelling the resolver accepts (dotted, decimal,
    hex, octal or short IPv4; IPv6 with or without a zone), or None for a name."""
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


async def system_resolve(host: str, port: int) -> list[Address]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


class PublicAddressTransport(httpx.AsyncBaseTransport):
    """Resolves, checks and connects to the checked address, for every request."""

    def __init__(self, *, allow_private: bool = False, resolve: Resolver = system_resolve) -> None:
        self.allow_private = allow_private
        self.resolve = resolve
        self._inner = httpx.AsyncHTTPTransport(limits=httpx.Limits(max_keepalive_connections=0), retries=0)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        literal = literal_address(host)
        try:
            addresses = [literal] if literal is not None else await self.resolve(host, port)
        except OSError:
            raise httpx.ConnectError("the endpoint's host does not resolve", request=request) from None
        if not addresses:
            raise httpx.ConnectError("the endpoint's host does not resolve", request=request)
        if not self.allow_private and not all(is_public(a) for a in addresses):
            raise BlockedAddress("the endpoint's host is not a public address", request=request)
        request.url = url.copy_with(host=str(addresses[0]))
        if url.scheme == "https" and literal is None:
            request.extensions = {**request.extensions, "sni_hostname": host}
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()

"""Webhook deliveries over HTTP(S), safe against server-side request forgery.

The receiver's host is resolved once per attempt, every address it resolves to is checked
(`faros.domain.webhooks.refused_address`) and the connection goes to the first one: the URL
handed to httpx names that IP, while the `Host` header and the TLS server name (SNI, also the
name the certificate is verified against) stay the original host. A DNS answer that changes
between the check and the connection (DNS rebinding) therefore cannot move the request to
another address. Redirects are not followed (a 3xx is a failed attempt), proxies from the
environment are ignored, the whole attempt is bounded by `timeout_seconds` and at most
`max_response_bytes` of the answer are read.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

import httpx

from faros.domain.webhooks import AttemptResult, refused_address

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

TIMEOUT_SECONDS = 10.0
# A request creating a webhook waits at most this long for its host to resolve.
CHECK_SECONDS = 3.0
MAX_RESPONSE_BYTES = 64 * 1024
USER_AGENT = "FAROS-Webhooks/1"


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class Refused(Exception):
    """The URL's host may not be called."""


class HttpWebhookSender:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_seconds: float = TIMEOUT_SECONDS,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: the context certificates are verified with (default: the system's CAs)."""
        self._allow_private = allow_private
        self._timeout = timeout_seconds
        self._max_bytes = max_response_bytes
        # One verifying context for every attempt: hostname checked against the SNI name.
        self._tls = tls if tls is not None else ssl.create_default_context()

    async def _resolve(self, host: str, port: int) -> list[Address]:
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        found: list[Address] = []
        for _family, _type, _proto, _name, sockaddr in infos:
            address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if address not in found:
                found.append(address)
        return found

    def _check(self, host: str, addresses: list[Address]) -> None:
        if not addresses:
            raise Refused(f"{host} resolves to no address")
        if self._allow_private:
            return
        for address in addresses:
            reason = refused_address(address)
            if reason is not None:
                raise Refused(f"{host} resolves to {address}, {reason}")

    async def refusal(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            addresses = await asyncio.wait_for(self._resolve(host, port), CHECK_SECONDS)
        except (OSError, TimeoutError, UnicodeError):
            return None  # not resolvable now; checked again at every delivery
        try:
            self._check(host, addresses)
        except Refused as refused:
            return str(refused)
        return None

    async def send(self, url: str, headers: Mapping[str, str], body: str) -> AttemptResult:
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            async with asyncio.timeout(self._timeout):
                code = await self._post(url, headers, body)
        except TimeoutError:
            return AttemptResult(None, took(), f"no answer within {self._timeout:g} seconds")
        except Refused as refused:
            return AttemptResult(None, took(), f"refused: {refused}")
        except (OSError, UnicodeError, ValueError) as error:
            return AttemptResult(None, took(), f"could not connect: {error}")
        except httpx.HTTPError as error:
            return AttemptResult(None, took(), f"{type(error).__name__}: {error}")
        return AttemptResult(code, took())

    async def _post(self, url: str, headers: Mapping[str, str], body: str) -> int:
        parts = urlsplit(url)
        host = parts.hostname or ""
        https = parts.scheme == "https"
        port = parts.port or (443 if https else 80)
        addresses = await self._resolve(host, port)
        self._check(host, addresses)
        pinned = addresses[0]
        literal = f"[{pinned}]" if pinned.version == 6 else str(pinned)
        target = urlunsplit((parts.scheme, f"{literal}:{port}", parts.path or "/", parts.query, ""))
        # Headers and the TLS server name are ASCII: an internationalised name goes as IDNA.
        name = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
        authority = name if parts.port is None else f"{name}:{parts.port}"
        sent = {**headers, "host": authority, "user-agent": USER_AGENT}
        # A name is verified as the certificate's name; an IP literal is the connection's own.
        named = https and not _is_address(host)
        extensions = {"sni_hostname": name} if named else {}
        async with (
            httpx.AsyncClient(
                verify=self._tls,
                follow_redirects=False,
                trust_env=False,
                timeout=self._timeout,
            ) as client,
            client.stream(
                "POST", target, content=body.encode(), headers=sent, extensions=extensions
            ) as response,
        ):
            received = 0
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received >= self._max_bytes:
                    break  # the rest is not read: the status is all that counts
            return response.status_code

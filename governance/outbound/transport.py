"""One POST to one vetted address. No ORM.

The connection goes to the address `addresses.resolve` vetted, never to a second lookup of the
name; the Host header and the TLS server name (and certificate check) stay the URL's host.
Redirects are answers, not instructions: nothing here follows one. Proxies from the
environment are not used either (the vetted address is the peer).
"""

from __future__ import annotations

import http.client
import socket
import ssl

from governance.outbound import addresses


class _PinnedHTTP(http.client.HTTPConnection):
    """An HTTP connection to a fixed address, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """An HTTPS connection to a fixed address; SNI and the certificate check use the host."""

    def __init__(self, host: str, port: int, *, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def post(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, str]:
    """POST `body` to `url`; (status code, reason phrase). Raises addresses.Refused when the URL
    or its address is not allowed, OSError or http.client.HTTPException when the exchange
    fails."""
    target = addresses.parse(url)
    address = str(addresses.resolve(target))
    kind = _PinnedHTTPS if target.scheme == "https" else _PinnedHTTP
    connection = kind(target.host, target.port, address=address, timeout=timeout)
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.reason
    finally:
        connection.close()

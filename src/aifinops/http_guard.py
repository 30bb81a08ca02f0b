"""DNS-rebinding and cross-origin protection for aifinops' local HTTP servers (dashboard and MCP).

Both servers hold cost data and bind 127.0.0.1. A web page on ``evil.example`` whose name is made to
resolve to 127.0.0.1 (DNS rebinding) could still read them, because the browser thinks it talks to
``evil.example``: only the ``Host`` header tells. ``LocalOnly`` is one ASGI middleware both servers
wrap their app in. It answers 421 to a ``Host`` that is not this server (127.0.0.1, localhost or
[::1], or the address the user bound explicitly, with the served port) and 403 to an ``Origin``
that is not one of those same origins (a script on another site). No ``Origin`` is fine: browsers
send none on same-origin navigation, and curl or an MCP client send none at all.
No dependencies (plain ASGI), so the MCP server does not need the dashboard's extra.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

LOCAL_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
# Binding one of these listens on every interface: the name a client used is then the address it reached.
WILDCARDS = frozenset({"", "0.0.0.0", "::", "[::]"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def host_name(host: str) -> str:
    """A host as it appears in a ``Host`` header: lower case, IPv6 in brackets."""
    host = host.strip().lower()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return host


def split_host(value: str, scheme: str = "http") -> tuple[str, int | None]:
    """``'127.0.0.1:8765'`` → ``('127.0.0.1', 8765)``; no port → the scheme's; a bad port → None."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value.partition("]")
        name, port_text = name + "]", rest[1:] if rest.startswith(":") else ""
        if rest and not rest.startswith(":"):
            return value, None
    else:
        name, _, port_text = value.partition(":")
    if not port_text:
        return name, _DEFAULT_PORTS.get(scheme)
    return name, int(port_text) if port_text.isdigit() else None


def clip(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (a header or argument quoted back, never in full)."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


class LocalOnly:
    """ASGI middleware: 421 for a foreign ``Host``, 403 for a foreign ``Origin``, on every HTTP route.

    ``bind_host``: the address the server was told to bind (its name is then allowed too; a wildcard
    bind allows the local address each connection reached). ``port``: the served port (default: the
    port of the socket that took the request).
    """

    def __init__(self, app: ASGIApp, bind_host: str = "127.0.0.1", port: int | None = None) -> None:
        self.app = app
        self.port = port
        self.wildcard = host_name(bind_host) in WILDCARDS
        self.names = set(LOCAL_NAMES) | ({host_name(bind_host)} if not self.wildcard else set())

    def allowed(self, scope: Scope) -> tuple[set[str], int | None]:
        """The host names and the port this request may name."""
        server = scope.get("server") or (None, None)
        names = set(self.names)
        if self.wildcard and server[0]:
            names.add(host_name(str(server[0])))
        return names, self.port if self.port is not None else server[1]

    def refusal(self, scope: Scope) -> tuple[int, str] | None:
        """(status, message) when the request must be refused, else None."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        names, port = self.allowed(scope)
        here = f"http://127.0.0.1:{port}/" if port else "http://127.0.0.1/"
        host = headers.get("host", "")
        name, host_port = split_host(host, scope.get("scheme", "http"))
        if not host or name not in names or host_port != port:
            return 421, (
                f"Host {clip(host)!r} is not this server, which answers only as "
                f"{', '.join(sorted(names))} on port {port} (this refuses DNS rebinding). To fix: open {here}"
            )
        origin = headers.get("origin")
        if origin is not None:
            parts = urlsplit(origin.strip().lower())
            try:
                origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
            except ValueError:
                origin_port = None
            origin_name = host_name(parts.hostname or "") if parts.hostname else ""
            if parts.scheme not in ("http", "https") or origin_name not in names or origin_port != port:
                return 403, (
                    f"Origin {clip(origin)!r} may not call this server (cross-origin requests are refused). "
                    f"To fix: use the page this server serves at {here}, or a client that sends no Origin."
                )
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            refused = self.refusal(scope)
            if refused is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 1008})
                    return
                status, message = refused
                body = message.encode()
                await send({
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                (b"content-length", str(len(body)).encode())],
                })
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

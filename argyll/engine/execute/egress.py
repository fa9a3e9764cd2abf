"""Where HTTP steps may send the engine: the step egress policy.

Variables ``STEP_ALLOWED_HOSTS`` and ``STEP_DENIED_HOSTS``.

Without a policy, a step whose endpoint was
``DELETE http://127.0.0.1:<engine port>/engine/step/<victim>`` made the engine
delete its own step, and health-check errors mapped the network. Each rule
is a host name (``api.example.com``, or ``*.example.com`` for its
subdomains), an address or network in CIDR form (``10.0.0.0/8``, ``::1``),
optionally with a port (``localhost:9000``, ``[::1]:8080``), or a port alone
(``:8080``, any host).

- A destination matching a **denied** rule, by name or by any address it
  resolves to, is refused. The engine's own API address (its port on
  loopback, on its listen address, and on this machine's addresses when it
  listens on all of them) is always denied.
- When **allowed** rules are set, a destination must match one of them, by
  name or by every address it resolves to.
- Checked when a step is registered or updated (the URLs' literal hosts) and
  again for every connection the engine opens: after DNS resolution, and for
  each redirect (a redirect to a new host opens a new connection).

The default (no variables) denies only the engine itself, so steps on
localhost keep working. A refused call fails the work item permanently with
``egress denied: ...``.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from argyll.errors import ConfigError

__all__ = ["EgressDenied", "EgressPolicy", "PolicyConnector", "Rule", "parse_rule"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class EgressDenied(Exception):
    """A destination the egress policy refuses (not an ``OSError``: never retried)."""


@dataclass(frozen=True)
class Rule:
    """One policy entry: a host name pattern or a network, and maybe a port."""

    text: str
    name: str = ""
    network: Network | None = None
    port: int | None = None

    def matches_name(self, host: str, port: int) -> bool:
        if not self.name or (self.port is not None and self.port != port):
            return False
        host = host.lower().rstrip(".")
        if self.name.startswith("*."):
            return host.endswith(self.name[1:])
        return host == self.name

    def matches_address(self, address: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.network is None:
            return not self.name  # a bare port rule matches any host
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.version == self.network.version and ip in self.network


def parse_rule(text: str) -> Rule:
    """Parse one rule; see the module docstring for the forms.

    Raises:
        ConfigError: the entry is neither a host name, an address, a network
            nor a port.
    """
    raw = text.strip()
    host, port = raw, None
    if raw.startswith("["):  # [v6] or [v6]:port
        host, _, rest = raw[1:].partition("]")
        if rest:
            port = _port(raw, rest.removeprefix(":"))
    elif raw.count(":") == 1:  # host:port, or :port
        host, _, port_text = raw.partition(":")
        port = _port(raw, port_text)
    if not host:
        if port is None:
            raise ConfigError(f'invalid egress rule: "{text}"')
        return Rule(raw, port=port)
    try:
        network = ipaddress.ip_network(host, strict=False)
    except ValueError:
        name = host.lower().rstrip(".")
        label = name.removeprefix("*.")
        if not label or not all(
            part and part.replace("-", "").isalnum() for part in label.split(".")
        ):
            raise ConfigError(f'invalid egress rule: "{text}"') from None
        return Rule(raw, name=name, port=port)
    return Rule(raw, network=network, port=port)


def _port(text: str, port_text: str) -> int:
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f'invalid egress rule: "{text}"')
    return int(port_text)


def _rules(variable: str, entries: Iterable[str]) -> list[Rule]:
    try:
        return [parse_rule(t) for t in entries]
    except ConfigError as exc:
        raise ConfigError(f"invalid {variable}: {exc}") from None


def _own_addresses(host: str, port: int) -> list[Rule]:
    """The engine's own API address: its port on every address that reaches it."""
    nets = ["127.0.0.0/8", "::1/128", "0.0.0.0/32", "::/128"]
    if host in ("", "0.0.0.0", "::"):
        try:
            nets += socket.gethostbyname_ex(socket.gethostname())[2]
        except OSError:
            pass
    else:
        try:
            nets.append(str(ipaddress.ip_address(host)))
        except ValueError:
            pass
    rules = [Rule(f"{n} (engine)", network=ipaddress.ip_network(n), port=port) for n in nets]
    rules.append(Rule(f"localhost:{port} (engine)", name="localhost", port=port))
    return rules


class EgressPolicy:
    """The allowed and denied destinations of step calls.

    Args:
        allowed: ``STEP_ALLOWED_HOSTS`` entries; empty allows all not denied.
        denied: ``STEP_DENIED_HOSTS`` entries.
        engine_host: The engine's listen address (``API_HOST``).
        engine_port: The engine's port (``API_PORT``); 0 adds no own-address rule.
    """

    def __init__(
        self,
        allowed: Iterable[str] = (),
        denied: Iterable[str] = (),
        *,
        engine_host: str = "",
        engine_port: int = 0,
    ) -> None:
        self.allowed = _rules("STEP_ALLOWED_HOSTS", allowed)
        self.denied = _rules("STEP_DENIED_HOSTS", denied)
        if engine_port:
            self.denied += _own_addresses(engine_host, engine_port)

    def check(self, host: str, port: int, addresses: Sequence[str] = ()) -> str:
        """Why a connection to ``host:port`` (resolved to ``addresses``) is refused, or ``""``."""
        literal = _literal(host)
        addresses = [literal] if literal else list(addresses)
        for rule in self.denied:
            if (not literal and rule.matches_name(host, port)) or any(
                rule.matches_address(a, port) for a in addresses
            ):
                return f"egress denied: {_where(host, port)} matches {rule.text}"
        if not self.allowed:
            return ""
        if not literal and any(rule.matches_name(host, port) for rule in self.allowed):
            return ""
        if addresses and all(
            any(rule.matches_address(a, port) for rule in self.allowed) for a in addresses
        ):
            return ""
        if not addresses and not literal:
            return ""  # a name not yet resolved: decided at connection time
        return f"egress denied: {_where(host, port)} is not in STEP_ALLOWED_HOSTS"

    def check_step(self, http: Any) -> str:
        """The registration-time check of a step's ``http`` URLs, or ``""``."""
        if http is None:
            return ""
        for url in (http.endpoint, http.compensate, http.health_check):
            reason = self.check_url(url or "")
            if reason:
                return reason
        return ""

    def check_url(self, url: str) -> str:
        """The registration-time check of an endpoint URL (its literal host and port)."""
        if not url or "{" in url.split("//", 1)[-1].split("/", 1)[0]:
            return ""  # no URL, or a placeholder in the authority: checked at call time
        try:
            parsed = URL(url)
            host, port = parsed.host, parsed.port
        except ValueError:
            return ""  # malformed: validation reports it
        if not host or port is None:
            return ""
        reason = self.check(host, port)
        if reason.endswith("is not in STEP_ALLOWED_HOSTS") and not _literal(host):
            return ""
        return reason


def _literal(host: str) -> str:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return ""


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class PolicyConnector(aiohttp.TCPConnector):
    """A connector that applies an :class:`EgressPolicy` to every connection it opens."""

    def __init__(self, policy: EgressPolicy, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.policy = policy

    async def _resolve_host(self, host: str, port: int, traces: Any = None) -> Any:
        hosts = await super()._resolve_host(host, port, traces=traces)
        reason = self.policy.check(host, port, [str(h["host"]) for h in hosts])
        if reason:
            raise EgressDenied(reason)
        return hosts

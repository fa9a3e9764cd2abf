"""The egress policy's rules, pure (issue 17 item 7): names, networks, ports, defaults."""

from __future__ import annotations

import pytest

from argyll.engine.execute.egress import EgressPolicy, parse_rule
from argyll.errors import ConfigError


def test_the_engine_itself_is_denied_by_default_and_nothing_else() -> None:
    policy = EgressPolicy(engine_host="127.0.0.1", engine_port=8080)
    assert policy.check("127.0.0.1", 8080).startswith("egress denied: 127.0.0.1:8080 matches")
    assert policy.check("127.0.0.2", 8080)  # all of loopback
    assert policy.check("::1", 8080)
    assert policy.check("::ffff:127.0.0.1", 8080)  # v4-mapped
    assert policy.check("localhost", 8080)
    assert policy.check("0.0.0.0", 8080)
    assert policy.check("vm", 8080, ["127.0.0.1"])  # a name resolving to it
    assert policy.check("127.0.0.1", 9000) == ""  # steps on localhost keep working
    assert policy.check("localhost", 9000) == ""
    assert policy.check("api.example.com", 443, ["93.184.216.34"]) == ""


def test_denied_rules_by_name_network_and_port() -> None:
    policy = EgressPolicy(
        denied=["10.0.0.0/8", "*.internal", "metadata.google.internal", ":2375", "[fd00::]:80"],
    )
    assert policy.check("10.1.2.3", 80)
    assert policy.check("svc.example.com", 80, ["10.9.9.9"])  # resolves into the network
    assert policy.check("db.internal", 5432)
    assert policy.check("docker.example.com", 2375, ["1.2.3.4"])
    assert policy.check("fd00::", 80) and not policy.check("fd00::", 81)
    assert policy.check("example.com", 80, ["1.2.3.4"]) == ""


def test_allowed_rules_restrict_everything_else() -> None:
    policy = EgressPolicy(allowed=["*.example.com", "192.168.1.0/24", "127.0.0.1:9000"])
    assert policy.check("api.example.com", 443, ["8.8.8.8"]) == ""  # allowed by name
    assert policy.check("192.168.1.7", 80) == ""
    assert policy.check("127.0.0.1", 9000) == ""
    assert policy.check("127.0.0.1", 9001).endswith("is not in STEP_ALLOWED_HOSTS")
    assert policy.check("other.org", 80, ["192.168.1.7", "8.8.8.8"])  # every address must match
    assert policy.check_url("http://127.0.0.1:9001/x")  # literal: refused at registration
    assert policy.check_url("http://unresolved.org/x") == ""  # a name: decided when called
    assert policy.check_url("http://{host}/x") == ""


@pytest.mark.parametrize("text", ["", "a b", "host:port", "10.0.0.0/99", ":0", "[::1]:x", "*."])
def test_bad_rules_are_config_errors(text: str) -> None:
    with pytest.raises(ConfigError, match="invalid egress rule"):
        parse_rule(text)


def test_bad_variables_name_themselves() -> None:
    with pytest.raises(ConfigError, match='invalid STEP_DENIED_HOSTS: invalid egress rule: "x y"'):
        EgressPolicy(denied=["x y"])

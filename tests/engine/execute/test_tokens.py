"""Work-item tokens are random UUIDv4 strings (DATA-4)."""

from __future__ import annotations

import uuid

from argyll.engine.execute.tokens import TokenSource


def test_tokens_are_unique_uuid4() -> None:
    source = TokenSource()
    tokens = [source() for _ in range(2000)]  # crosses several buffer refills
    assert len(set(tokens)) == len(tokens)
    for token in tokens[:300]:
        parsed = uuid.UUID(token)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == token

"""Work-item tokens are UUIDv4 strings derived from data under a key (DATA-4)."""

from __future__ import annotations

import uuid

from argyll.engine.flow.tokens import work_token


def test_tokens_are_uuid4_strings_unique_per_item() -> None:
    tokens = [work_token(b"k", "wf", step, i) for step in ("a", "b") for i in range(1000)]
    assert len(set(tokens)) == len(tokens)
    for token in tokens[:300]:
        parsed = uuid.UUID(token)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == token


def test_the_same_data_and_key_give_the_same_token() -> None:
    assert work_token(b"k", "wf", "a", 3) == work_token(b"k", "wf", "a", 3)


def test_another_key_flow_or_step_gives_another_token() -> None:
    base = work_token(b"k", "wf", "a", 0)
    assert base != work_token(b"other", "wf", "a", 0)
    assert base != work_token(b"k", "wf2", "a", 0)
    assert base != work_token(b"k", "wf", "b", 0)
    # The separator keeps ("ab", "c") and ("a", "bc") apart.
    assert work_token(b"k", "ab", "c", 0) != work_token(b"k", "a", "bc", 0)

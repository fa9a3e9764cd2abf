"""The webhook credential (ASYNC-1): one secret per store, shared by every engine on it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from argyll.engine.execute.webhook_auth import SECRET_AGGREGATE, WebhookSigner
from argyll.engine.store import open_store


def test_engines_on_one_store_share_the_secret(tmp_path: Path) -> None:
    async def main() -> None:
        first = open_store(tmp_path)
        await first.open()
        a, b = WebhookSigner(), WebhookSigner()
        await asyncio.gather(a.load(first), b.load(first))  # a race to create it
        assert len(await first.read(SECRET_AGGREGATE)) == 1
        await first.close()
        reopened = open_store(tmp_path)  # a restart, or another node
        await reopened.open()
        c = WebhookSigner()
        await c.load(reopened)
        await reopened.close()
        sig = a.signature("f", "s", "t")
        assert sig == b.signature("f", "s", "t") == c.signature("f", "s", "t")
        assert c.verify("f", "s", "t", sig)
        assert not c.verify("f", "s", "t2", sig)
        assert not c.verify("f", "s2", "t", sig)
        assert not c.verify("f", "s", "t", "")
        assert a.url("http://e", "f", "s", "t") == f"http://e/webhook/f/s/t?sig={sig}"
        assert len(sig) == 43  # 256 bits, unpadded base64url

    asyncio.run(main())

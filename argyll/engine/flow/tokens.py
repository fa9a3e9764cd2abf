"""Work-item tokens derived from data: the same flow, step and index give the same token.

A token is a keyed hash (HMAC-SHA256 under the engine's token key) of the
flow ID, the step ID and the item's index, written as a UUIDv4 string
(DATA-4). Deriving instead of drawing keeps decisions deterministic (a
replay with the same key gives the same tokens) while a key the engine
keeps to itself keeps tokens unguessable. A step's items are created once
per flow, so (flow, step, index) never repeats.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["work_token"]


def work_token(key: bytes, flow_id: str, step_id: str, index: int) -> str:
    """The token of item ``index`` of ``step_id`` in ``flow_id`` under ``key``."""
    message = f"{flow_id}\x00{step_id}\x00{index}".encode("utf-8", "surrogatepass")
    value = int.from_bytes(hmac.new(key, message, hashlib.sha256).digest()[:16], "big")
    value = (value & ~(0xF000 << 64)) | (0x4000 << 64)  # version 4
    value = (value & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

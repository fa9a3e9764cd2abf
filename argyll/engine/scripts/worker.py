"""The script worker process: runs step scripts under rlimits, one request at a time.

Started by :mod:`.pool` as ``python -c`` with this module's :func:`main`. It
reads length-prefixed msgpack requests on fd 0 and answers on fd 1 (the real
stdout is redirected to /dev/null so nothing else can write to the channel).
It never unpickles anything and only ever receives data plus marshalled code
that the parent compiled and validated. Its address space, file size and core
size are capped with ``setrlimit``; after a ``MemoryError`` it answers and
exits so the pool replaces it. It exits on EOF (the parent went away).

Request: ``[lang, key, payload, arg_names, args, timeout, memory, depth, items, max_bytes]``
where ``payload`` is ``[code, constants]`` (Ale), the source (Lua) or ``None``
when the parent believes the worker has the script cached.
Response: ``["ok", outputs]``, ``["miss"]`` or ``["err", kind, message]``. An
encoded result over ``max_bytes`` is answered as a ``size`` error and error
messages are cut to ``MAX_ERROR`` bytes, so no frame outgrows the limits.
"""

from __future__ import annotations

import os
import resource
import struct
import sys
from typing import Any

from argyll.errors import ScriptCompileError, ScriptLimitExceeded, ScriptRuntimeError

from .ale import load_ale
from .execute import run_ale, run_lua
from .limits import Budget
from .lua.engine import sandbox_for_thread

__all__ = ["MAX_FRAME", "READY", "main", "read_frame", "write_frame"]

_HEADER = struct.Struct(">I")
MAX_FRAME = 256 << 20
#: The first frame a worker sends: it is loaded and limited, ready for requests.
READY = b"ready"
#: Longest error message a worker sends back (the engine cuts further).
MAX_ERROR = 64 << 10


def read_exact(fd: int, size: int) -> bytes | None:
    """Read exactly ``size`` bytes, or ``None`` at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int) -> bytes | None:
    """Read one length-prefixed frame, or ``None`` at end of file."""
    header = read_exact(fd, _HEADER.size)
    if header is None:
        return None
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        return None
    return read_exact(fd, size)


def write_frame(fd: int, payload: bytes) -> None:
    """Write one length-prefixed frame."""
    data = memoryview(_HEADER.pack(len(payload)) + payload)
    while data:
        written = os.write(fd, data)
        data = data[written:]


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 512 << 20


def _limit_resources(memory: int) -> None:
    cap = _vm_size() + memory
    for limit, value in (
        (resource.RLIMIT_AS, cap),
        (resource.RLIMIT_FSIZE, 0),
        (resource.RLIMIT_CORE, 0),
    ):
        try:
            _soft, hard = resource.getrlimit(limit)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(limit, (value, hard))
        except (ValueError, OSError):
            pass


def _handle(request: list[Any], cache: Any, cache_size: int) -> list[Any]:
    lang, key, payload, names, args, timeout, memory, depth, items, max_bytes = request
    budget = Budget(timeout, memory, depth, items, max_bytes)
    try:
        if lang == "ale":
            compiled = cache.get(key)
            if compiled is None:
                if payload is None:
                    return ["miss"]
                code, constants = payload
                compiled = load_ale(tuple(names), key, code, constants)
                cache.put(key, compiled)
            return ["ok", run_ale(compiled, args, budget)]
        if payload is None and not sandbox_for_thread(cache_size).has(key):
            return ["miss"]
        return ["ok", run_lua(key, payload or "", names, args, budget, cache_size)]
    except ScriptLimitExceeded as exc:
        return ["err", exc.kind, exc.message]
    except ScriptCompileError as exc:
        return ["err", "compile", exc.message]
    except ScriptRuntimeError as exc:
        return ["err", "runtime", exc.message]


def _bounded(encoder: Any, response: list[Any], max_bytes: int) -> bytes:
    """The encoded response, with oversized results and messages replaced or cut."""
    if response[0] == "err" and isinstance(response[2], str) and len(response[2]) > MAX_ERROR:
        response[2] = response[2][:MAX_ERROR] + "... [truncated]"
    data: bytes = encoder.encode(response)
    if response[0] == "ok" and len(data) > max_bytes:
        data = encoder.encode(["err", "size", f"script result too large: over {max_bytes} bytes"])
    return data


def main() -> None:
    """Serve requests until the parent closes the channel."""
    import msgspec

    from .cache import LRUCache

    memory = int(sys.argv[1]) if len(sys.argv) > 1 else 256 << 20
    cache_size = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    fd_in = 0
    fd_out = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sandbox_for_thread(cache_size)  # load lupa before capping the address space
    _limit_resources(memory)
    encoder = msgspec.msgpack.Encoder()
    decoder = msgspec.msgpack.Decoder()
    cache: LRUCache[Any] = LRUCache(cache_size)
    write_frame(fd_out, READY)
    while True:
        frame = read_frame(fd_in)
        if frame is None:
            return
        fatal = False
        max_bytes = 1 << 20
        try:
            request = decoder.decode(frame)
            max_bytes = int(request[9])
            response = _handle(request, cache, cache_size)
        except MemoryError:
            response, fatal = ["err", "memory", ""], True
        except RecursionError:
            response = ["err", "recursion", ""]
        except Exception as exc:  # never let the worker die silently mid-request
            response = ["err", "runtime", f"worker error: {type(exc).__name__}"]
        try:
            write_frame(fd_out, _bounded(encoder, response, max_bytes))
        except MemoryError:
            return
        if fatal:
            return

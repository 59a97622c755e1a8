"""pyHanko's synchronous calls run their own asyncio loop (`asyncio.run`), which Python refuses
inside a thread whose loop is already running (an ASGI server, or Playwright's sync API in the
same test process). `outside_event_loop` runs such a call on a short-lived worker thread when
that is the case, and directly otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def outside_event_loop(call: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`call(*args, **kwargs)`, on a fresh thread if this one runs an event loop."""
    if not loop_running():
        return call(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(call, *args, **kwargs).result()

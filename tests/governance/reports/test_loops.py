"""pyHanko's synchronous calls work inside a running event loop (ASGI, Playwright's sync API)."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from governance.reports.loops import loop_running, outside_event_loop


def _without_a_loop() -> tuple[bool, int, int]:
    return loop_running(), outside_event_loop(threading.get_ident), threading.get_ident()


def test_a_call_runs_directly_without_a_loop_and_on_another_thread_inside_one():
    # a fresh thread has no loop (this one may: Playwright's sync API leaves one running)
    with ThreadPoolExecutor(max_workers=1) as pool:
        running, callee, caller = pool.submit(_without_a_loop).result()
    assert not running and callee == caller

    async def inside() -> tuple[int, int, int]:
        # asyncio.run would refuse here; the helper moves it to a thread without a loop
        value = outside_event_loop(asyncio.run, asyncio.sleep(0, result=42))
        return value, outside_event_loop(threading.get_ident), threading.get_ident()

    with ThreadPoolExecutor(max_workers=1) as pool:
        value, worker, main = pool.submit(asyncio.run, inside()).result()
    assert value == 42 and worker != main

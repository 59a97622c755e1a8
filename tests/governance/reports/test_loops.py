"""pyHanko's synchronous calls work inside a running event loop (ASGI, Playwright's sync API)."""

from __future__ import annotations

import asyncio
import threading

from governance.reports.loops import loop_running, outside_event_loop


def test_a_call_runs_directly_without_a_loop_and_on_another_thread_inside_one():
    assert not loop_running()
    assert outside_event_loop(threading.get_ident) == threading.get_ident()

    async def inside() -> tuple[int, int, int]:
        # asyncio.run would refuse here; the helper moves it to a thread without a loop
        value = outside_event_loop(asyncio.run, asyncio.sleep(0, result=42))
        return value, outside_event_loop(threading.get_ident), threading.get_ident()

    value, worker, main = asyncio.run(inside())
    assert value == 42 and worker != main

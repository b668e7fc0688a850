"""Running one action in several threads at the same moment, as concurrent requests arrive."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence


def at_once(action: Callable, arguments: Sequence, *, timeout: float = 60) -> list:
    """Call ``action(argument)`` for every argument, each in a thread of its own, all
    released together by a barrier; return what the calls returned, in the order they
    finished. Each thread closes its own database connection (Django opens one per thread).
    """
    from django.db import connection

    barrier = threading.Barrier(len(arguments))
    results = []

    def run(argument) -> None:
        try:
            barrier.wait(timeout=timeout)
            results.append(action(argument))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(argument,)) for argument in arguments]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results

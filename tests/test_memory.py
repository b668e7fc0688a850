"""core.memory: bounded per-process memories, least recently used out first, all cleared at once."""

import threading

import pytest

from core import memory
from core.memory import Memory


def test_a_memory_keeps_at_most_its_size_dropping_the_least_recently_used():
    kept = Memory("test.bounded", 3)
    for n in range(3):
        kept.set(n, f"value {n}")
    assert kept.get(0) == "value 0"  # 0 is now the most recently used
    kept.set(3, "value 3")
    assert len(kept) == 3
    assert 1 not in kept
    assert [kept.get(n) for n in (0, 2, 3)] == ["value 0", "value 2", "value 3"]


def test_get_or_set_computes_once_per_key():
    kept = Memory("test.compute", 10)
    calls = []

    def compute():
        calls.append(1)
        return "computed"

    assert kept.get_or_set("key", compute) == "computed"
    assert kept.get_or_set("key", compute) == "computed"
    assert len(calls) == 1
    assert kept.get_or_set("other", lambda: None) is None
    assert kept.get_or_set("other", compute) is None  # None is a value like any other


def test_clear_all_empties_every_memory():
    first, second = Memory("test.first", 5), Memory("test.second", 5)
    first.set("a", 1)
    second.set("b", 2)
    memory.clear_all()
    assert "a" not in first and "b" not in second
    assert len(first) == len(second) == 0


def test_two_memories_cannot_share_a_name_and_a_memory_holds_something():
    Memory("test.unique", 1)
    with pytest.raises(ValueError):
        Memory("test.unique", 1)
    with pytest.raises(ValueError):
        Memory("test.empty", 0)


def test_threads_writing_at_once_never_leave_more_than_the_size():
    kept = Memory("test.threads", 50)

    def write(offset: int) -> None:
        for n in range(500):
            kept.set((offset, n), n)

    threads = [threading.Thread(target=write, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kept) == 50

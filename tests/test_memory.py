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


def test_a_byte_bound_drops_the_least_recently_used_until_the_rest_fits():
    one = memory.weight(0) + memory.weight("x" * 1000)
    kept = Memory("test.bytes", 100, max_bytes=3 * one)
    for n in range(3):
        kept.set(n, "x" * 1000)
    assert len(kept) == 3
    kept.get(0)  # 0 is now the most recently used
    kept.set(3, "y" * 1000)
    assert len(kept) == 3 and 1 not in kept
    kept.set(4, "z" * 2000)  # about as heavy as two: the two least recently used go
    assert sorted(k for k in range(5) if k in kept) == [3, 4]
    assert kept.bytes <= kept.max_bytes


def test_a_value_heavier_than_the_byte_bound_is_not_kept_and_replaces_nothing():
    kept = Memory("test.too_heavy", 10, max_bytes=1000)
    kept.set("small", "s")
    kept.set("big", "b" * 5000)
    assert "big" not in kept and "small" in kept
    kept.set("small", "b" * 5000)  # the old value under the key goes too
    assert "small" not in kept and kept.bytes == 0
    with pytest.raises(ValueError):
        Memory("test.no_bytes", 10, max_bytes=0)


def test_the_weight_kept_follows_replacing_popping_and_clearing():
    kept = Memory("test.weight", 10, max_bytes=10**6)
    kept.set("a", "x" * 100)
    kept.set("a", "x" * 300)
    kept.set("b", ("digest", ("<p>", "tools", "</p>")))
    fragment = ("digest", ("<p>", "tools", "</p>"))
    w = memory.weight
    assert kept.bytes == w("a") + w("x" * 300) + w("b") + w(fragment)
    kept.pop("a")
    assert kept.bytes == w("b") + w(fragment)
    kept.clear()
    assert kept.bytes == 0 and len(kept) == 0
    assert memory.usage()["test.weight"] == {
        "values": 0, "size": 10, "bytes": 0, "max_bytes": 10**6
    }  # fmt: skip


def test_weight_counts_text_inside_tuples_dicts_and_dataclasses():
    from core.shells import Shell

    text = "t" * 10_000
    assert memory.weight(text) > 10_000
    assert memory.weight(("d", (text,))) > 10_000
    assert memory.weight({"k": [text]}) > 10_000
    assert memory.weight(Shell(parts=(text, "slot", text))) > 20_000
    assert memory.weight(object()) < 100  # anything else: its own size only


def test_a_memory_without_a_byte_bound_keeps_heavy_values_by_count_alone():
    kept = Memory("test.count_only", 2)
    kept.set(1, "x" * 10**6)
    kept.set(2, "y" * 10**6)
    assert len(kept) == 2 and kept.bytes == 0


def test_the_memories_of_a_web_process_stay_within_the_stated_budget():
    import contributions.document_page  # noqa: F401 - makes the contributions' memories
    import contributions.page  # noqa: F401
    import contributions.templatetags.passage_tags  # noqa: F401
    import studies.structure  # noqa: F401

    bounded = {
        name: row["max_bytes"]
        for name, row in memory.usage().items()
        if name.startswith(("contributions.", "studies."))
    }
    assert None not in bounded.values(), bounded  # each has a byte bound
    assert sum(bounded.values()) <= memory.BUDGET

"""The Redis cache shares one pool and one client per process (core/cache.py)."""

import threading

from core.cache import SharedPoolRedisCache


def test_cache_objects_of_two_threads_share_one_pool_and_one_client(requires_redis):
    import uuid

    import redis

    location = requires_redis
    name = f"shared-test-{uuid.uuid4().hex[:8]}"  # how Redis knows these connections
    made = {}

    def make(key):
        cache = SharedPoolRedisCache(
            location, {"KEY_PREFIX": name, "OPTIONS": {"client_name": name}}
        )
        cache.set("k", key, 10)
        made[key] = cache

    threads = [threading.Thread(target=make, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for key in ("c", "d", "e"):  # Django makes a cache object per request context
        make(key)
    first, second = made["a"], made["b"]
    assert first is not second
    raw = redis.Redis.from_url(location)

    def connections() -> int:
        return sum(1 for c in raw.client_list() if c.get("name") == name)

    # At most one connection per thread that used it at once, not one per object
    # (five here) or per call.
    opened = connections()
    assert 1 <= opened <= 2
    for n in range(50):
        first.set(f"n{n}", n, 10)
        assert second.get(f"n{n}") == n
    assert connections() == opened
    first.delete_many(["k", *(f"n{n}" for n in range(50))])


def test_a_counter_on_redis_counts_in_one_round_trip_and_expires(requires_redis):
    import redis

    from core.cache import count_up

    cache = SharedPoolRedisCache(requires_redis, {"KEY_PREFIX": "count-test"})
    cache.delete("c")
    client = cache._cache.get_client(write=True)
    sent = []
    real = client.connection_pool.get_connection

    def counted(*args, **kwargs):
        sent.append(args)
        return real(*args, **kwargs)

    client.connection_pool.get_connection = counted
    try:
        assert [count_up(cache, "c", 30) for _ in range(3)] == [1, 2, 3]
    finally:
        client.connection_pool.get_connection = real
    assert len(sent) == 3  # one connection use (one MULTI) per count
    assert cache.get("c") == 3  # a plain number, as Django's cache keeps integers
    raw = redis.Redis.from_url(requires_redis)
    assert 0 < raw.ttl(cache.make_and_validate_key("c")) <= 30
    # A counter set by cache.set() (as the browser tests do) counts on.
    cache.set("c", 10, 30)
    assert count_up(cache, "c", 30) == 11
    cache.delete("c")


def test_a_counter_in_local_memory_counts_and_expires(settings):
    from django.core.cache.backends.locmem import LocMemCache

    from core.cache import count_up

    cache = LocMemCache("count-test", {})
    assert [count_up(cache, "c", 30) for _ in range(3)] == [1, 2, 3]
    cache.delete("c")  # gone (expired) between add and incr: starts again
    assert count_up(cache, "c", 30) == 1


def test_the_posting_limit_counts_in_one_round_trip_through_the_default_cache(
    requires_redis, monkeypatch
):
    """Through ``django.core.cache.cache`` (a proxy), as the services call it."""
    from django.core.cache import cache, caches
    from django.core.cache.backends.redis import RedisCache

    from contributions.services import posting_rate_check
    from tests.factories import UserFactory

    real = caches["default"]
    if not isinstance(real, RedisCache):
        import pytest

        pytest.skip("the default cache is not Redis in this run")

    def refuse(*args, **kwargs):
        raise AssertionError("add()/incr(): three round trips")

    monkeypatch.setattr(real, "add", refuse)
    monkeypatch.setattr(real, "incr", refuse)
    person = UserFactory.build(pk=987654)
    posting_rate_check(user=person)
    posting_rate_check(user=person)
    counts = [cache.get(key) for key in _rate_keys(real, 987654)]
    assert sum(int(c or 0) for c in counts) == 2  # both counted (a minute may turn between)


def _rate_keys(real, user_id):
    import time

    from django.conf import settings

    from contributions.services import parse_rate

    rate = parse_rate(settings.POSTING_RATE_LIMIT)
    window = int(time.time()) // rate.seconds
    return [f"posting-rate:{user_id}:{w}" for w in (window - 1, window)]

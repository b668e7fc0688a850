"""The Redis cache shares one pool and one client per process (config/cache.py)."""

import threading

from config.cache import SharedPoolRedisCache


def test_cache_objects_of_two_threads_share_one_pool_and_one_client(requires_redis):
    location = requires_redis
    made = {}

    def make(name):
        cache = SharedPoolRedisCache(location, {"KEY_PREFIX": "shared-test"})
        cache.set("k", name, 10)
        made[name] = cache

    threads = [threading.Thread(target=make, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    first, second = made["a"], made["b"]
    assert first is not second
    assert first._cache is second._cache
    assert first._cache.get_client() is second._cache.get_client()
    pool = first._cache._get_connection_pool(write=True)
    assert pool is second._cache._get_connection_pool(write=True)
    # At most one connection per thread that used it at once, not one per call.
    opened = len(pool._available_connections) + len(pool._in_use_connections)
    assert opened <= 2
    for n in range(50):
        first.set(f"n{n}", n, 10)
        assert second.get(f"n{n}") == n
    assert len(pool._available_connections) + len(pool._in_use_connections) == opened
    first.delete_many(["k", *(f"n{n}" for n in range(50))])


def test_django_redis_cache_would_make_a_client_per_call(requires_redis):
    """What this replaces: Django's client builds a new redis.Redis on every call."""
    from django.core.cache.backends.redis import RedisCache

    cache = RedisCache(requires_redis, {})
    assert cache._cache.get_client() is not cache._cache.get_client()

"""Django's Redis cache with one connection pool and one client per process.

Django 5.2's ``RedisCache`` keeps its connection pools on the cache object,
and Django makes a cache object per thread and per request context: under
ASGI every request got a new pool, so a new TCP connection to Redis, and
every cache call built a new ``redis.Redis`` client (Django ticket #35651).
Here the pools and clients live in the process and are shared by every
cache object with the same location and options; redis-py's pools and clients
are safe to share between threads, and a pool opens new connections in a
forked child (Celery's prefork) by itself.
"""

from __future__ import annotations

import logging
import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.connection import ConnectionProxy
from django.utils.functional import cached_property

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_shared: dict[tuple, SharedRedisCacheClient] = {}


class SharedRedisCacheClient(RedisCacheClient):
    def __init__(self, servers, **options) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, object] = {}

    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        pool = self._pools.get(index)
        if pool is None:
            with _lock:  # two threads must not each make a pool
                pool = self._pools.get(index)
                if pool is None:
                    pool = self._pools[index] = self._pool_class.from_url(
                        self._servers[index], **self._pool_options
                    )
        return pool

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


def shared_client(servers: list[str], options: dict) -> SharedRedisCacheClient:
    key = (tuple(servers), repr(sorted(options.items())))
    client = _shared.get(key)
    if client is None:
        with _lock:
            client = _shared.get(key)
            if client is None:
                client = _shared[key] = SharedRedisCacheClient(servers, **options)
    return client


class SharedPoolRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache``, sharing pools process-wide."""

    @cached_property
    def _cache(self) -> SharedRedisCacheClient:
        return shared_client(self._servers, self._options)


def count_up(cache, key: str, timeout: int) -> int:
    """Add one to the counter ``key`` in ``cache`` and return it; a new counter lives
    ``timeout`` seconds.

    On Redis one round trip: SET NX with the timeout and INCR, in one MULTI
    (Django's add() and incr() take three: SET NX, EXISTS, INCR). Django's
    Redis cache keeps integers as plain numbers, so get() reads the counter.
    Other caches (local memory) use add() and incr().
    """
    if isinstance(cache, ConnectionProxy):  # django.core.cache.cache: the real one
        cache = cache._connections[cache._alias]
    if isinstance(cache, RedisCache):
        full = cache.make_and_validate_key(key)
        pipe = cache._cache.get_client(full, write=True).pipeline(transaction=True)
        pipe.set(full, 0, ex=timeout, nx=True)
        pipe.incr(full)
        _created, value = pipe.execute()
        return int(value)
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


def drop(key: str) -> bool:
    """Delete ``key`` from the default cache; False, logged, when the cache is down.

    For values that expire by themselves anyway: a cache that is down must not
    turn the change that drops them into an error.
    """
    from django.core.cache import cache

    try:
        cache.delete(key)
    except Exception:
        logger.warning("could not drop %s from the cache", key, exc_info=True)
        return False
    return True

"""Helpers below every app: the cache, queries, request parameters, load shedding.

``core`` imports no app and no part of ``config``; every app may import it.
"""

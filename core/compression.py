"""Gzip for pages and fragments; streamed answers pass untouched.

Django's GZipMiddleware with one change: a streaming response (an export or an
attachment as a FileResponse, static files from WhiteNoise, which serves its own
precompressed .gz and .br) is left as it is. Compressing those would only spend the
worker's CPU on files that are already compressed (zip, xlsx, pdf) or served
compressed, hide their length from the browser's progress bar, and hold chunks of a
stream back in the compressor. Websockets never pass through HTTP middleware.

BREACH: since Django 4.2 the middleware adds up to 100 random bytes to every gzip
header (Heal the Breach), so a response's length no longer tells an attacker whether
a guess matched a secret; the CSRF token in pages is also masked anew per request.
docs/decisions.md, "Compressed HTML".
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class PageGZipMiddleware(GZipMiddleware):
    def process_response(self, request: HttpRequest, response: HttpResponseBase):
        if response.streaming:
            return response
        return super().process_response(request, response)

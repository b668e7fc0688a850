"""Production settings for benchmark runs: config.settings, static files in a private folder.

With DEBUG off, templates need the static manifest that ``collectstatic``
writes; the benchmarks write it under bench/results/ instead of the
project's STATIC_ROOT. Everything else is read from the environment exactly
as in production (config/settings.py).
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403

STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT", "bench/results/staticfiles")).resolve()

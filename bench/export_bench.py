"""Benchmark: peak memory of an XLSX export with 50,000 participant rows.

    .venv/bin/python bench/export_bench.py                       # 50,000 rows, both tiers
    .venv/bin/python bench/export_bench.py --rows 200000 --formats xlsx csv

Each export runs in a fresh child process (this script with --child), so the
peak resident set size (getrusage ru_maxrss) is that export's alone: Django
set-up, the statistics and participant rows held in memory as the export task
holds them, reports.exports.document_for and reports.exports.write to a file.
The rows are made up in memory (2,000 organisations, 365 days), with no
database: what is measured is the writer, which is the part that grows with
the rows. The file is then read back with openpyxl to check its row count.
Target (issue 6): peak below 300 MB. Stops by itself (--timeout per child).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_MB = 300


def rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def child(rows: int, tier: str, fmt: str, path: str) -> dict:
    sys.path.insert(0, str(ROOT))
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()
    import datetime as dt

    from django.utils import translation

    from reports.exports import document_for, write
    from reports.statistics import (
        DayRow,
        OrganisationRow,
        ParticipantRow,
        SectorRow,
        StudyStatistics,
        Totals,
    )

    after_setup = rss_mb()
    sectors = ["public", "private", "academia", "civil", "other"]
    organisations = [
        OrganisationRow(i, f"Organisation {i}", f"{910000000 + i}", sectors[i % 5], 25, 120, 380)
        for i in range(2000)
    ]
    start = dt.date(2026, 1, 1)
    days = [
        DayRow((start + dt.timedelta(days=d)).isoformat(), 700, 2000, 137, 2700 * d, 137 * d)
        for d in range(365)
    ]
    statistics = StudyStatistics(
        definitions_version=1,
        generated_at=dt.datetime.now(dt.UTC).isoformat(),
        study_id=1,
        study_slug="bench",
        study_title="Bench study",
        small_count_threshold=3,
        totals=Totals(
            participants=rows,
            members=rows,
            organisations=2000,
            individuals=rows // 5,
            contributions=250_000,
            comments=750_000,
        ),
        sectors=[SectorRow(s, 400, rows // 5, 50_000, 150_000) for s in sectors],
        organisations=organisations,
        days=days,
    )
    now = dt.datetime.now(dt.UTC).isoformat()
    participants = [
        ParticipantRow(
            user_id=i,
            organisation_id=i % 2000,
            organisation=f"Organisation {i % 2000}",
            org_number=f"{910000000 + i % 2000}",
            sector=sectors[i % 5],
            contributions=5,
            comments=15,
            first_activity=now,
            last_activity=now,
        )
        for i in range(rows)
    ]
    # Every participant consented, so a named file holds all ``rows`` rows too.
    names = None
    if tier == "named":
        names = {i: (f"Person {i}", f"person{i}@bench.example") for i in range(rows)}
    before_write = rss_mb()
    started = time.perf_counter()
    with translation.override("nb"):
        document = document_for(
            statistics=statistics, tier=tier, participants=participants, names=names
        )
        with open(path, "wb") as out:
            written = write(document, fmt, out)
    seconds = time.perf_counter() - started
    return {
        "tier": tier,
        "format": fmt,
        "rows": written,
        "write_s": round(seconds, 2),
        "rss_after_django_setup_mb": after_setup,
        "rss_before_write_mb": before_write,
        "peak_rss_mb": rss_mb(),
        "file_mb": round(os.path.getsize(path) / 1024 / 1024, 1),
    }


def check_rows(path: str, fmt: str) -> int:
    """Participant rows in the file, read back."""
    if fmt == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        count = sum(1 for _ in workbook["Participants"].iter_rows(values_only=True)) - 1
        workbook.close()
        return count
    if fmt == "json":
        with open(path, encoding="utf-8") as handle:
            return len(json.load(handle)["participants"])
    with open(path, encoding="utf-8-sig") as handle:
        lines = handle.read().split("[Participants]", 1)[1].strip().splitlines()
    return len(lines) - 1  # the header


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--tiers", nargs="+", default=["pseudonymous", "named"])
    parser.add_argument("--formats", nargs="+", default=["xlsx"])
    parser.add_argument("--timeout", type=int, default=600, help="seconds per export")
    parser.add_argument("--child", nargs=3, metavar=("TIER", "FORMAT", "PATH"))
    args = parser.parse_args()
    if args.child:
        tier, fmt, path = args.child
        print(json.dumps(child(args.rows, tier, fmt, path)))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="dugnad-export-bench-") as folder:
        for tier in args.tiers:
            for fmt in args.formats:
                path = os.path.join(folder, f"export.{fmt}")
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--rows",
                        str(args.rows),
                        "--child",
                        tier,
                        fmt,
                        path,
                    ],
                    capture_output=True,
                    text=True,
                    timeout=args.timeout,
                    check=True,
                    cwd=ROOT,
                )
                result = json.loads(done.stdout.strip().splitlines()[-1])
                result["rows_read_back"] = check_rows(path, fmt)
                result["below_target"] = result["peak_rss_mb"] < TARGET_MB
                results.append(result)
    report = {
        "rows": args.rows,
        "target_peak_rss_mb": TARGET_MB,
        "results": results,
        "loadavg": Path("/proc/loadavg").read_text().split()[:3],
    }
    print(json.dumps(report, indent=1))
    return 0 if all(r["below_target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

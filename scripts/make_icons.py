"""Draw Dugnad's favicon and app icons from static/icons/icon.svg with Chromium.

Run by hand after changing the SVG (the PNGs and the .ico are committed, so
neither `make run` nor the tests need a browser for them):

    .venv/bin/python scripts/make_icons.py

CHROMIUM_PATH names the browser (default /usr/bin/chromium).
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from playwright.sync_api import sync_playwright

ICONS = Path(__file__).resolve().parent.parent / "static" / "icons"
# name -> (size, background): app icons are transparent, Apple's touch icon is not.
PNGS = {
    "icon-192.png": (192, None),
    "icon-512.png": (512, None),
    "apple-touch-icon.png": (180, "#0b5cad"),
}
ICO_SIZES = (16, 32, 48)


def _render(page, svg: str, size: int, background: str | None) -> bytes:
    fill = background or "transparent"
    page.set_viewport_size({"width": size, "height": size})
    page.set_content(
        f'<html><body style="margin:0;background:{fill}">'
        f'<img src="data:image/svg+xml;base64,{svg}" width="{size}" height="{size}" '
        'style="display:block"></body></html>'
    )
    page.wait_for_load_state("load")
    return page.screenshot(omit_background=background is None, type="png")


def _ico(pngs: list[tuple[int, bytes]]) -> bytes:
    """An .ico holding PNG images (every browser since IE 11 reads these)."""
    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = 6 + 16 * len(pngs)
    entries, data = b"", b""
    for size, png in pngs:
        entries += struct.pack("<BBBBHHII", size % 256, size % 256, 0, 0, 1, 32, len(png), offset)
        offset += len(png)
        data += png
    return header + entries + data


def main() -> None:
    import base64

    svg = base64.b64encode((ICONS / "icon.svg").read_bytes()).decode()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
        )
        page = browser.new_page()
        for name, (size, background) in PNGS.items():
            (ICONS / name).write_bytes(_render(page, svg, size, background))
        small = [(size, _render(page, svg, size, None)) for size in ICO_SIZES]
        (ICONS / "favicon.ico").write_bytes(_ico(small))
        browser.close()


if __name__ == "__main__":
    main()

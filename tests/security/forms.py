"""Fill in and send a page's own form, as a browser would (hidden fields, formsets and all)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit


class _Forms(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "fields": []}
            self.forms.append(self._form)
        if self._form is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form["fields"].append(
                (name, a.get("value") or ("on" if kind == "checkbox" else ""))
            )
        elif tag == "select" and name:
            self._select, self._select_first = name, None
            self._form["fields"].append((name, None))
        elif tag == "option" and self._select:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
                self._set_last(self._select, value)
            if "selected" in a:
                self._set_last(self._select, value)
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def _set_last(self, name, value):
        fields = self._form["fields"]
        for i in range(len(fields) - 1, -1, -1):
            if fields[i][0] == name:
                fields[i] = (name, value)
                return

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea and self._form is not None:
            self._form["fields"].append((self._textarea, "".join(self._text).lstrip("\n")))
            self._textarea = None
        elif tag == "form":
            self._form = None


def page_forms(html: str) -> list[dict]:
    parser = _Forms()
    parser.feed(html)
    parser.close()
    return parser.forms


def submit(client, page: str, *, action: str | None = None, data: dict | None = None, **kwargs):
    """GET ``page``, take its form posting to ``action`` (the page itself by default), change
    ``data`` and POST it. Unknown fields in ``data`` are added."""
    html = client.get(page).content.decode()
    target = action or page
    forms = [f for f in page_forms(html) if (urlsplit(f["action"]).path or page) == target]
    if not forms:
        raise AssertionError(f"no form posting to {target} on {page}")
    fields = dict(forms[0]["fields"])
    fields = {k: v for k, v in fields.items() if v is not None}
    fields.update(data or {})
    return client.post(target, fields, **kwargs)

"""The page layout tags (accounts/templatetags/page_tags.py): one heading for <title> and
<h1>, and data_table's region, caption, empty state and pagination."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.template import Context, RequestContext, Template, TemplateSyntaxError
from django.test import RequestFactory


def render(source: str, **context) -> str:
    request = RequestFactory().get("/list/", {"q": "kart"})
    return Template("{% load page_tags %}" + source).render(RequestContext(request, context))


TABLE = (
    '{% data_table "t1" "People" hidden=True items=people empty="Nobody yet" pages=pages %}'
    "<tr><th>Name</th></tr>{% rows %}{% for p in people %}<tr><td>{{ p }}</td></tr>{% endfor %}"
    "{% enddata_table %}"
)


def test_a_table_has_its_region_named_by_its_caption_and_escapes_what_people_wrote():
    html = render(TABLE, people=["Kari", "<script>x</script>"], pages=None)
    assert 'role="region" tabindex="0" aria-labelledby="t1"' in html
    assert '<caption id="t1" class="visually-hidden">People</caption>' in html
    assert "<thead><tr><th>Name</th></tr></thead>" in html
    assert "<td>Kari</td>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>" not in html
    assert "Nobody yet" not in html
    assert "ds-pagination" not in html


def test_an_empty_table_is_its_empty_sentence_only():
    html = render(TABLE, people=[], pages=None)
    assert html.strip() == '<p class="muted">Nobody yet</p>'


def test_a_page_of_a_longer_list_is_followed_by_its_pagination_keeping_the_query():
    page = Paginator(list(range(30)), 10).page(2)
    html = render(TABLE, people=page.object_list, pages=page)
    assert 'class="ds-pagination"' in html
    assert "?q=kart&amp;page=3" in html
    assert 'aria-current="true"' in html


def test_a_scrolling_table_takes_its_classes():
    html = render(
        '{% data_table "t2" "Wide" scroll=True class="compact" %}'
        "<tr></tr>{% rows %}<tr></tr>{% enddata_table %}"
    )
    assert '<div class="table-scroll"' in html
    assert '<table class="ds-table compact">' in html
    assert '<caption id="t2">Wide</caption>' in html


@pytest.mark.parametrize(
    "source",
    [
        '{% data_table "only-an-id" %}{% rows %}{% enddata_table %}',
        '{% data_table "t" "c" colour="red" %}{% rows %}{% enddata_table %}',
        '{% data_table "t" "c" True %}{% rows %}{% enddata_table %}',
    ],
)
def test_a_table_written_wrong_is_a_template_error(source):
    with pytest.raises(TemplateSyntaxError):
        render(source)


def test_the_heading_is_written_once_and_shown_as_title_and_h1_escaped(rf):
    from django.template.loader import get_template

    class Study:
        title = "Kart & <b>plan</b>"

    page = Template(
        '{% extends "page.html" %}{% block heading %}Members of {{ study.title }}{% endblock %}'
        "{% block page %}<p>body</p>{% endblock %}"
    )
    assert get_template("page.html")  # the layout the page extends
    html = page.render(Context({"request": rf.get("/"), "study": Study()}))
    heading = "Members of Kart &amp; &lt;b&gt;plan&lt;/b&gt;"
    assert f"<title>{heading} – Dugnad</title>" in html
    assert f"<h1>{heading}</h1>" in html
    assert "<b>plan</b>" not in html


def test_the_heading_tag_outside_a_layout_is_empty():
    assert render("<h1>{% page_heading %}</h1>") == "<h1></h1>"

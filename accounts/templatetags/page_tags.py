"""Tags for the page layouts in templates/ (``{% load page_tags %}``).

``{% page_heading %}`` lets a page write its heading once: templates/page.html puts the
``heading`` block in the page's ``<title>`` and shows it again in the ``<h1>``. Django renders
a block only once, so the tag renders the page's own ``heading`` block a second time.

``{% data_table %}`` writes the parts every data table repeats (its scrolling region, caption,
empty state and pagination) once, in templates/_data_table.html.
"""

from __future__ import annotations

from django import template
from django.template.base import token_kwargs
from django.template.loader_tags import BLOCK_CONTEXT_KEY

register = template.Library()


@register.simple_tag(takes_context=True)
def page_heading(context) -> str:
    """The page's ``heading`` block, rendered again (empty outside a page that extends one)."""
    blocks = context.render_context.get(BLOCK_CONTEXT_KEY)
    block = blocks.get_block("heading") if blocks else None
    if block is None:
        return ""
    with context.push():
        return block.nodelist.render(context)


@register.tag("data_table")
def do_data_table(parser, token):
    """A table in its scrolling region, with its caption: templates/_data_table.html.

    ``{% data_table "table-log-1" _("Moderation log") hidden=True %}`` the header row
    ``{% rows %}`` the body rows ``{% enddata_table %}``. Options: ``hidden`` (the caption is
    for screen readers only), ``scroll`` (a wide table that scrolls: ``table-scroll``),
    ``class`` (more classes for the table), ``items`` and ``empty`` (when ``items`` is empty,
    ``empty`` stands in a muted paragraph instead of the table), ``pages`` (a Django Page: its
    pagination follows).
    """
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError("data_table takes an id and a caption")
    table_id, caption = (parser.compile_filter(bit) for bit in bits[1:3])
    options = token_kwargs(bits[3:], parser)
    if len(options) != len(bits) - 3 or set(options) - DATA_TABLE_OPTIONS:
        raise template.TemplateSyntaxError(
            f"data_table's options are name=value, among {sorted(DATA_TABLE_OPTIONS)}"
        )
    head = parser.parse(("rows",))
    parser.delete_first_token()
    rows = parser.parse(("enddata_table",))
    parser.delete_first_token()
    return DataTableNode(table_id, caption, options, head, rows)


DATA_TABLE_OPTIONS = {"hidden", "scroll", "class", "items", "empty", "pages"}


class DataTableNode(template.Node):
    def __init__(self, table_id, caption, options, head, rows):
        self.table_id, self.caption, self.options = table_id, caption, options
        self.head, self.rows = head, rows

    def render(self, context):
        values = {name: value.resolve(context) for name, value in self.options.items()}
        values["table_id"] = self.table_id.resolve(context)
        values["caption"] = self.caption.resolve(context)
        values["table_class"] = values.pop("class", "")
        if "items" not in values or values["items"]:
            values["head"] = self.head.render(context)
            values["rows"] = self.rows.render(context)
        else:
            values["show_empty"] = True
        table = context.template.engine.get_template("_data_table.html")
        with context.push(values):
            return table.render(context)

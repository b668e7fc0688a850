"""Template helpers of studies."""

from django import template
from django.utils import timezone, translation

from core.memory import Memory
from studies import extensions
from studies.selectors import study_header_context, study_header_viewer

register = template.Library()


@register.simple_tag(takes_context=True)
def study_header_data(context, access):
    """The study header's data: the view's ``study_header`` if given, else computed here.

    The viewer's part always comes from the request when the view did not
    compute it for a person.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    given = context.get("study_header")
    if not given:
        return study_header_context(access, user=user)["study_header"]
    if not given.get("viewer_known"):
        return {**given, **study_header_viewer(access, user=user)}
    return given


@register.simple_tag
def study_links(study, place: str, role: str = "") -> list[dict]:
    """Links on studies' pages, studies' own and those higher apps add (studies.extensions)."""
    return extensions.study_links(study, place=place, role=role)


# What {% remember %} keeps: per process, at most REMEMBERED_MAX blocks.
REMEMBERED_MAX = 2048
_remembered = Memory("studies.remember", REMEMBERED_MAX)


class RememberNode(template.Node):
    def __init__(self, name: str, keys: list, nodelist) -> None:
        self.name = name
        self.keys = keys
        self.nodelist = nodelist

    def render(self, context) -> str:
        values = []
        for key in self.keys:
            try:
                value = key.resolve(context)
            except template.VariableDoesNotExist:  # keys nothing: rendered each time
                return self.nodelist.render(context)
            values.append(tuple(value) if isinstance(value, list) else value)
        key = (
            self.name,
            translation.get_language(),
            timezone.get_current_timezone_name(),
            *values,
        )
        return _remembered.get_or_set(key, lambda: self.nodelist.render(context))


@register.tag
def remember(parser, token):
    """``{% remember "name" value ... %}…{% endremember %}``: the block rendered once per
    process for these values, the language and the time zone.

    For markup that depends on the values given and nothing else: never the
    CSRF token, the request or the viewer. Each block's name is its own. The
    values are variables (no filters); one that does not exist keeps nothing.
    """
    bits = token.split_contents()
    if len(bits) < 2:
        raise template.TemplateSyntaxError("{% remember %} needs a name")
    nodelist = parser.parse(("endremember",))
    parser.delete_first_token()
    return RememberNode(bits[1], [template.Variable(bit) for bit in bits[2:]], nodelist)

"""Template helpers of studies."""

from django import template

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

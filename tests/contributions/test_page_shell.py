"""The study page is rendered once per event and viewer class, and filled per person."""

import re

import pytest
from django.test import Client
from django.test.signals import template_rendered
from django.urls import reverse

from contributions import services
from contributions.models import Contribution
from core.shells import Shell, slot
from studies.models import Role
from tests.contributions.factories import contribution_form, member, organisation
from tests.factories import ContributionFactory, StudyFactory, UserFactory, give_mfa, login_as

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


def page_url(study):
    return reverse("study_detail", args=[study.slug])


class Renders:
    """The study page templates rendered while this is open (Django's test signal)."""

    def __init__(self):
        self.names = []

    def __enter__(self):
        template_rendered.connect(self._seen)
        return self

    def __exit__(self, *exc):
        template_rendered.disconnect(self._seen)

    def _seen(self, sender, template, context, **kwargs):
        self.names.append(template.name)

    def count(self, name="contributions/study_detail.html"):
        return self.names.count(name)


def signed_in(user):
    client = Client()
    login_as(client, user)
    return client


def test_two_members_share_one_rendering_and_each_gets_their_own_values():
    study = StudyFactory()
    kari_org = organisation(name="Kari's Agency")
    kari = member(study, display_name="Kari", organisation=kari_org)
    ola = member(study, display_name="Ola")
    own = ContributionFactory(study=study, author=kari, title="The idea of Kari")
    services.reaction_toggle(item=own, user=ola)
    with Renders() as renders:
        kari_html = signed_in(kari).get(page_url(study)).content.decode()
        ola_html = signed_in(ola).get(page_url(study)).content.decode()
        assert renders.count() == 1  # the second member's page was filled, not rendered
    assert "The idea of Kari" in kari_html and "The idea of Kari" in ola_html
    # Each person's own values: who they are, what they reacted to, their membership.
    assert f'data-viewer-id="{kari.pk}"' in kari_html
    assert f'data-viewer-id="{ola.pk}"' in ola_html
    assert f'data-reacted="contribution-{own.pk}"' in ola_html
    assert 'data-reacted=""' in kari_html
    assert "Kari&#x27;s Agency" in kari_html and "Kari&#x27;s Agency" not in ola_html
    assert "You take part as yourself" in ola_html
    # Only the author is offered editing; only Ola's button says he supports it.
    edit = reverse("contribution_edit", args=[study.slug, own.pk])
    assert edit in kari_html and edit not in ola_html
    assert 'aria-pressed="true"' in ola_html and 'aria-pressed="true"' not in kari_html
    for html in (kari_html, ola_html):
        assert "[slot-" not in html


def test_each_person_gets_a_csrf_token_that_posts():
    study = StudyFactory()
    kari, ola = member(study), member(study)
    ola_client = signed_in(ola)
    signed_in(kari).get(page_url(study))  # the shell is made for Kari
    ola_client.handler.enforce_csrf_checks = True
    html = ola_client.get(page_url(study)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = ola_client.post(
        reverse("contribution_list", args=[study.slug]),
        contribution_form("Posted with the page's token", "It works.", csrfmiddlewaretoken=token),
    )
    assert response.status_code == 302
    assert "Posted with the page&#x27;s token" in ola_client.get(page_url(study)).content.decode()


def test_a_new_event_renders_the_page_again_with_what_changed():
    study = StudyFactory()
    kari, ola = member(study), member(study)
    client = signed_in(kari)
    with Renders() as renders:
        client.get(page_url(study))
        ContributionFactory(study=study, author=ola, title="Arrived later")
        # A reaction records a study event.
        services.reaction_toggle(item=Contribution.objects.get(study=study), user=ola)
        html = client.get(page_url(study)).content.decode()
        assert renders.count() == 2
    assert "Arrived later" in html


def test_viewer_classes_get_their_own_rendering():
    study = StudyFactory()
    ContributionFactory(study=study, title="An idea")
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    contributor = member(study)
    with Renders() as renders:
        visitor_html = Client().get(page_url(study)).content.decode()
        contributor_html = signed_in(contributor).get(page_url(study)).content.decode()
        facilitator_html = signed_in(facilitator).get(page_url(study)).content.decode()
        assert renders.count() == 3
    assert "moderation-facilitator-template" in facilitator_html
    assert "moderation-facilitator-template" not in contributor_html
    assert "post-heading" in contributor_html and "post-heading" not in visitor_html
    assert "Sign in to take part" in visitor_html
    assert 'id="unread-count"' not in visitor_html


def test_a_visitor_page_returns_the_language_form_to_its_own_address():
    study = StudyFactory()
    Client().get(page_url(study) + "?kind=idea")
    html = Client().get(page_url(study) + "?kind=question").content.decode()
    assert f'name="next" type="hidden" value="{page_url(study)}?kind=question"' in html


def test_the_unread_count_is_the_persons_own():
    from accounts.models import Notification

    study = StudyFactory()
    kari, ola = member(study), member(study)
    Notification.objects.create(user=kari, kind="reply", title="A reply", url="/")
    signed_in(ola).get(page_url(study))
    html = signed_in(kari).get(page_url(study)).content.decode()
    assert re.search(r'id="unread-count"[^>]*>1<', html)
    assert re.search(r'id="unread-count"[^>]*>0<', signed_in(ola).get(page_url(study)).text)


def test_a_message_shows_once_on_the_page_it_was_left_for():
    study = StudyFactory()
    member(study)
    newcomer = UserFactory()
    client = signed_in(newcomer)
    client.get(page_url(study))  # a shell for signed-in people who may not post yet
    response = client.post(
        reverse("studies:join", args=[study.slug]), {"consent_named": "on"}, follow=True
    )
    welcome = "Welcome! You are now a member of the study."
    assert response.content.decode().count(welcome) == 1
    assert welcome not in client.get(page_url(study)).content.decode()


def test_a_blocked_member_sees_the_block_notice_on_a_page_made_for_another():
    from moderation import services as moderation_services
    from studies.models import Membership

    study = StudyFactory()
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    kari, ola = member(study), member(study)
    moderation_services.member_block(
        study=study,
        actor=facilitator,
        membership=Membership.objects.get(study=study, user=kari),
        reason="Spam, repeatedly.",
    )
    signed_in(ola).get(page_url(study))
    assert "Spam, repeatedly." in signed_in(kari).get(page_url(study)).content.decode()
    assert "Spam, repeatedly." not in signed_in(ola).get(page_url(study)).content.decode()


def test_text_people_write_never_names_a_slot():
    written = "[slot-0123456789abcdef-csrf] and [slot-csrf]"
    study = StudyFactory(title=written)
    html = Client().get(page_url(study)).content.decode()
    assert written in html


def test_a_shell_is_filled_in_order_and_refuses_a_missing_value():
    shell = Shell.of(f"<a>{slot('one')}</a><b>{slot('two')}</b>{slot('one')}")
    assert shell.names == {"one", "two"}
    assert shell.fill({"one": "1", "two": "2"}) == "<a>1</a><b>2</b>1"
    with pytest.raises(KeyError):
        shell.fill({"one": "1"})
    with pytest.raises(ValueError):
        slot("Not-a-name")


def test_a_second_visitor_costs_no_queries_for_the_page_beyond_access_and_panels(
    django_assert_max_num_queries,
):
    study = StudyFactory()
    for n in range(5):
        ContributionFactory(study=study, title=f"Idea {n}")
    Client().get(page_url(study))
    Client().get(page_url(study))
    with django_assert_max_num_queries(4):
        response = Client().get(page_url(study))
    assert response.status_code == 200
    assert "Idea 4" in response.content.decode()


def test_a_new_survey_and_a_new_poll_show_on_a_page_kept_before_them():
    from polls.models import Survey
    from tests.polls.factories import coordinator, make_poll, make_survey

    study = StudyFactory()
    kari = member(study)
    boss = coordinator(study)
    client = signed_in(kari)
    client.get(page_url(study))
    client.get(page_url(study))
    make_survey(study, by=boss)
    assert "End of phase" in client.get(page_url(study)).content.decode()
    make_poll(study, by=boss)
    assert "Which architecture?" in client.get(page_url(study)).content.decode()
    assert Survey.objects.filter(study=study).count() == 1


def test_panels_the_same_for_a_class_are_rendered_with_the_shell_and_filled_per_person():
    """Moderation's tools (per class) are rendered once; each facilitator's page carries
    their own id and CSRF token in them; the block notice is rendered only for the blocked."""
    study = StudyFactory()
    ContributionFactory(study=study, title="An idea")
    first = give_mfa(member(study, role=Role.FACILITATOR))
    second = give_mfa(member(study, role=Role.FACILITATOR))
    pages = {}
    with Renders() as renders:
        for person in (first, second, first):
            pages[person.pk] = (person, signed_in(person).get(page_url(study)).content.decode())
        assert renders.count("moderation/_study_page_tools.html") == 1
        assert renders.count("moderation/_blocked_panel.html") == 0
    tokens = []
    for person in (first, second):
        html = pages[person.pk][1]
        tools = html[html.index('id="moderation-page-tools"') :]
        assert f'data-user-id="{person.pk}"' in tools[:300]
        template = tools[: tools.index("</template>")]
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', template).group(1))
        assert "[slot-" not in html
    assert tokens[0] != tokens[1] and all(len(token) == 64 for token in tokens)


def test_a_coordinator_and_a_facilitator_get_their_own_rendering():
    """Setting up surveys is the coordinator's: the two roles do not share a shell."""
    study = StudyFactory()
    coordinator = give_mfa(member(study, role=Role.COORDINATOR))
    facilitator = give_mfa(member(study, role=Role.FACILITATOR))
    surveys = reverse("polls:surveys", kwargs={"slug": study.slug})
    with Renders() as renders:
        coordinator_html = signed_in(coordinator).get(page_url(study)).content.decode()
        facilitator_html = signed_in(facilitator).get(page_url(study)).content.decode()
        assert renders.count() == 2
    assert surveys in coordinator_html and surveys not in facilitator_html
    assert 'id="polls"' in coordinator_html and 'id="polls"' in facilitator_html


def test_a_study_without_polls_keeps_the_empty_section_and_a_poll_shows_once_added():
    from tests.polls.factories import make_poll

    study = StudyFactory()
    kari = member(study)
    client = signed_in(kari)
    with Renders() as renders:
        for _ in range(2):
            html = client.get(page_url(study)).content.decode()
            assert 'id="poll-list"' in html  # where a poll arriving live goes
        assert renders.count("polls/_study_page_polls.html") == 0
        assert renders.count("polls/_study_page_no_polls.html") == 1
    assert 'id="polls-heading" hidden' in html
    make_poll(study)  # a study event: the next page is rendered anew, with the poll
    with Renders() as renders:
        for _ in range(2):
            html = client.get(page_url(study)).content.decode()
        assert renders.count("polls/_study_page_polls.html") == 2  # per request
    assert "Which architecture?" in html
    assert html.count('id="polls"') == 1 and 'id="polls-heading" hidden' not in html


def test_the_membership_part_is_each_persons_own_when_kept():
    """The membership line is kept per what it shows: two members of different
    organisations, and one whose role changes, each see their own."""
    study = StudyFactory()
    nav = member(study, organisation=organisation(name="NAV"))
    ssb = member(study, organisation=organisation(name="SSB"))
    alone = member(study)
    for _ in range(2):
        nav_html = signed_in(nav).get(page_url(study)).content.decode()
        ssb_html = signed_in(ssb).get(page_url(study)).content.decode()
        alone_html = signed_in(alone).get(page_url(study)).content.decode()
    assert "on behalf of NAV" in nav_html and "SSB" not in nav_html
    assert "on behalf of SSB" in ssb_html and "NAV" not in ssb_html
    assert "You take part as yourself" in alone_html

"""factory_boy factories for the core models, shared by every test package.

Claims to organisations: a membership or an item made here for an
organisation comes with the person's *confirmed* claim on it (an
administrator's decision), as every affiliation was before claims had to be
confirmed. Tests of unconfirmed and refused claims say so: an
``AffiliationFactory(state=ClaimState.PENDING)`` made first, or
``acted_for_claim=ClaimState.PENDING`` on the item.
"""

from __future__ import annotations

import factory
from django.utils import timezone

from accounts.models import Affiliation, ClaimDecision, ClaimState, Organisation, Sector, User
from contributions.models import Comment, Contribution
from studies.models import Membership, Role, Section, Study, StudyStatus

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(obj, create, extracted, **kwargs):
        """Give the person a verified primary address, as after sign-up."""
        if not create or extracted is False:
            return
        from allauth.account.models import EmailAddress

        obj.save()
        EmailAddress.objects.update_or_create(
            user=obj, email=obj.email, defaults={"verified": True, "primary": True}
        )


def _org_number(n: int) -> str:
    from accounts.validators import org_number_check_digit

    while True:
        first = f"{91000000 + n:08d}"
        digit = org_number_check_digit(first)
        if digit is not None:
            return first + str(digit)
        n += 7919


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    org_number = factory.Sequence(_org_number)
    sector = Sector.PUBLIC


class AffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliation

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    state = ClaimState.CONFIRMED
    decided_how = factory.LazyAttribute(
        lambda o: ClaimDecision.ADMINISTRATOR if o.state != ClaimState.PENDING else ""
    )
    decided_at = factory.LazyAttribute(
        lambda o: timezone.now() if o.state != ClaimState.PENDING else None
    )


def confirmed_claim(user, organisation) -> None:
    """The person's claim on the (canonical) organisation, confirmed unless one exists."""
    if user is None or organisation is None:
        return
    organisation = organisation.canonical()
    if not Affiliation.objects.filter(user=user, organisation=organisation).exists():
        AffiliationFactory(user=user, organisation=organisation)


class StudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Study

    slug = factory.Sequence(lambda n: f"study-{n}")
    title = factory.Sequence(lambda n: f"Study {n}")
    summary = "A concept study."
    body = "# The concept\n\nWhat we are writing together."
    status = StudyStatus.OPEN
    opens_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=1))


class SectionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Section

    study = factory.SubFactory(StudyFactory)
    # Within the 1–999 a study's form accepts, however long the run.
    order = factory.Sequence(lambda n: n % 999 + 1)
    title = factory.Sequence(lambda n: f"Section {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership
        skip_postgeneration_save = True

    study = factory.SubFactory(StudyFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.CONTRIBUTOR
    organisation = None

    @factory.post_generation
    def claim(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            confirmed_claim(obj.user, obj.organisation)


class _PostFactory(factory.django.DjangoModelFactory):
    """What contributions and comments share: their author may act for an
    organisation (``acted_for``), with the confirmed claim that allows it."""

    class Meta:
        abstract = True
        skip_postgeneration_save = True

    acted_for = None
    acted_for_claim = factory.LazyAttribute(
        lambda o: ClaimState.CONFIRMED if o.acted_for is not None else ""
    )

    @factory.post_generation
    def claim(obj, create, extracted, **kwargs):
        if create and obj.acted_for_claim == ClaimState.CONFIRMED:
            confirmed_claim(obj.author, obj.acted_for)


class ContributionFactory(_PostFactory):
    class Meta:
        model = Contribution
        skip_postgeneration_save = True

    study = factory.SubFactory(StudyFactory)
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Contribution {n}")
    body = "Some **text**."
    body_html = "<p>Some <strong>text</strong>.</p>"


class CommentFactory(_PostFactory):
    class Meta:
        model = Comment
        skip_postgeneration_save = True

    contribution = factory.SubFactory(ContributionFactory)
    study = factory.SelfAttribute("contribution.study")
    author = factory.SubFactory(UserFactory)
    body = "A comment."
    body_html = "<p>A comment.</p>"


def give_mfa(user: User) -> User:
    """Set up TOTP for a person, as facilitators and coordinators must have it."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(user, generate_totp_secret())
    return user


def use_second_factor(client, user: User, *, at: float | None = None) -> None:
    """Record in the client's session that ``user`` used TOTP, as allauth does on sign-in.

    The record is allauth's own (``account_authentication_methods``); ``at``
    (a Unix time) backdates it.
    """
    import time

    from allauth.account.internal.flows.login import AUTHENTICATION_METHODS_SESSION_KEY
    from allauth.mfa.models import Authenticator

    authenticator = Authenticator.objects.filter(user=user, type="totp").first()
    if authenticator is None:
        give_mfa(user)
        authenticator = Authenticator.objects.get(user=user, type="totp")
    session = client.session
    records = session.get(AUTHENTICATION_METHODS_SESSION_KEY, [])
    records.append(
        {
            "method": "mfa",
            "at": time.time() if at is None else at,
            "id": authenticator.pk,
            "type": "totp",
        }
    )
    session[AUTHENTICATION_METHODS_SESSION_KEY] = records
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()


def login_as(client, user: User) -> User:
    """Sign ``user`` in as allauth would: with TOTP used, if they have it set up.

    allauth asks everyone who has TOTP for a code at sign-in, so a signed-in
    person with TOTP has used it in the session (unless it was set up in
    another session, which tests write with a bare ``force_login``).
    """
    from allauth.mfa.models import Authenticator

    client.force_login(user)
    if Authenticator.objects.filter(user=user, type="totp").exists():
        use_second_factor(client, user)
    return user


def sign_in_with_second_factor(client, user: User) -> User:
    """Sign ``user`` in with TOTP (set up if missing) used in this session: staff powers open."""
    client.force_login(user)
    use_second_factor(client, user)
    return user

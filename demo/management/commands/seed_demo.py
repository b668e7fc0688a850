"""Demo data: an open study modelled on the "Digital Assistent" concept sketch.

Idempotent: everything is looked up by a stable key (organisation number,
e-mail address, study slug, an item's idempotency key) and created only when
missing, so a second run adds nothing. Content is pseudo-random from a fixed
seed, so every fresh run writes the same study.

The organisation numbers are made up: eight digits from the seed and a valid
MOD11 check digit. They are not the organisations' real numbers.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from io import StringIO

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import (
    Affiliation,
    ClaimDecision,
    ClaimState,
    Organisation,
    OrganisationDomain,
    Sector,
    User,
)
from accounts.validators import org_number_check_digit
from contributions.models import Comment, Contribution
from reports.statistics import headline, study_statistics
from studies.markdown import render_markdown
from studies.models import (
    DocumentVersion,
    Joining,
    Membership,
    ModerationMode,
    Phase,
    Role,
    Section,
    Study,
    StudyEvent,
    StudyStatus,
    Visibility,
)

SEED = 2021
DEMO_PASSWORD = "dugnad-demo-2026"
DEMO_DOMAIN = "demo.dugnad.localhost"
ADMIN_EMAIL = "admin@dugnad.localhost"
STUDY_SLUG = "digital-assistent"
KEY_NAMESPACE = uuid.UUID("6f1d8a52-4a0e-4c3b-9a57-1d2b3c4d5e6f")
PEOPLE = 100
CONTRIBUTIONS = 150
COMMENTS = 500

ORGANISATIONS = [
    ("Digitaliseringsdirektoratet", Sector.PUBLIC, "https://www.digdir.no"),
    ("NAV", Sector.PUBLIC, "https://www.nav.no"),
    ("Skatteetaten", Sector.PUBLIC, "https://www.skatteetaten.no"),
    ("Brønnøysundregistrene", Sector.PUBLIC, "https://www.brreg.no"),
    ("KS", Sector.PUBLIC, "https://www.ks.no"),
    ("Oslo kommune", Sector.PUBLIC, "https://www.oslo.kommune.no"),
    ("Bergen kommune", Sector.PUBLIC, "https://www.bergen.kommune.no"),
    ("Fjordkode AS", Sector.PRIVATE, ""),
    ("Nordlys Analyse AS", Sector.PRIVATE, ""),
    ("Tinde Teknologi AS", Sector.PRIVATE, ""),
    ("Bølge Tjenestedesign AS", Sector.PRIVATE, ""),
    ("Universitetet i Oslo", Sector.ACADEMIA, "https://www.uio.no"),
    ("NTNU", Sector.ACADEMIA, "https://www.ntnu.no"),
    ("OsloMet", Sector.ACADEMIA, "https://www.oslomet.no"),
    ("Seniornett Norge", Sector.CIVIL, ""),
    ("Foreningen for universell utforming", Sector.CIVIL, ""),
]

FIRST_NAMES = [
    "Anne", "Ola", "Kari", "Per", "Ingrid", "Lars", "Marit", "Jon", "Sigrid", "Erik",
    "Hanne", "Bjørn", "Silje", "Knut", "Ida", "Håkon", "Nora", "Magnus", "Tone", "Sindre",
    "Camilla", "Eirik", "Line", "Tor", "Maja", "Anders", "Hilde", "Espen", "Ragnhild", "Amir",
    "Fatima", "Jonas", "Astrid", "Mohammed", "Solveig", "Trond", "Linn", "Even", "Åse", "Vegard",
]  # fmt: skip
LAST_NAMES = [
    "Hansen", "Johansen", "Olsen", "Larsen", "Andersen", "Pedersen", "Nilsen", "Kristiansen",
    "Jensen", "Karlsen", "Berg", "Haugen", "Hagen", "Eriksen", "Bakken", "Solberg", "Dahl",
    "Lie", "Moen", "Strand", "Aasen", "Nygård", "Ali", "Khan", "Lunde", "Holm", "Vik",
]  # fmt: skip

SECTIONS = [
    (
        "Problem og behov",
        "Hvilke problemer møter innbyggere og virksomheter i dag, og hva trenger de?",
    ),
    ("Brukerreiser", "Beskriv situasjoner der en digital assistent kunne hjulpet."),
    (
        "Arkitektur og datadeling",
        "Hvilke byggeklosser, data og grensesnitt trengs, og hvem eier dem?",
    ),
    ("Personvern og sikkerhet", "Hva må til for at folk skal kunne stole på assistenten?"),
    ("Veien videre", "Hva bør gjøres først, og hvem bør gjøre det?"),
]

BODY_V05 = """# Digital assistent – konseptskisse

## Bakgrunn

Innbyggere møter mange offentlige tjenester, men må selv finne fram mellom dem.
En digital assistent kan hjelpe dem å forstå hva de har krav på, hva som skjer
videre og hva de må gjøre selv.

## Problem og behov

Vi samler erfaringer fra innbyggere, virksomheter og fagmiljøer.
"""

BODY_V08 = """# Digital assistent – konseptskisse

## Bakgrunn

Innbyggere møter mange offentlige tjenester, men må selv finne fram mellom dem.
En digital assistent kan hjelpe dem å forstå hva de har krav på, hva som skjer
videre og hva de må gjøre selv – på tvers av etater og forvaltningsnivåer.

## Problem og behov

- Informasjonen er spredt på mange nettsteder.
- Innbyggere må oppgi de samme opplysningene flere ganger.
- Det er vanskelig å vite hvor langt en sak har kommet.

## Brukerreiser

Vi beskriver tre livshendelser: å miste jobben, å få barn og å starte en bedrift.

## Arkitektur og datadeling

Assistenten bygger på felles byggeklosser: ID-porten, Altinn, Folkeregisteret og
Enhetsregisteret. Data deles bare med samtykke eller lovhjemmel.

## Personvern og sikkerhet

Personvern skal være innebygd. Innbyggeren skal alltid se hvilke opplysninger
assistenten bruker, og kunne trekke samtykket tilbake.

## Veien videre

Vi foreslår en utprøving med to livshendelser og tre kommuner.
"""

TOPICS = {
    "Problem og behov": [
        "innbyggere som ikke vet hvilke tjenester de har krav på",
        "at man må fylle ut de samme opplysningene flere ganger",
        "manglende oversikt over hvor langt en sak har kommet",
        "språkbarrierer i møte med det offentlige",
        "eldre som ikke bruker digitale tjenester",
        "små bedrifter som drukner i rapportering",
    ],
    "Brukerreiser": [
        "å miste jobben og søke dagpenger",
        "å få barn og søke foreldrepenger",
        "å starte en enkeltpersonforetak",
        "å flytte til en ny kommune",
        "å bli pårørende for en forelder",
        "dødsfall og arveoppgjør",
    ],
    "Arkitektur og datadeling": [
        "felles API-er for saksstatus på tvers av etater",
        "bruk av Folkeregisteret som autoritativ kilde",
        "samtykkebasert deling av inntektsopplysninger",
        "hendelsesbasert arkitektur for livshendelser",
        "åpne standarder og gjenbruk av felleskomponenter",
        "logging av hvem som har brukt hvilke data",
    ],
    "Personvern og sikkerhet": [
        "innebygd personvern fra første versjon",
        "at innbyggeren selv styrer samtykker",
        "risikoen ved å samle for mye data på ett sted",
        "sikker innlogging med ID-porten",
        "åpenhet om hvordan anbefalinger lages",
        "tilgang for verger og fullmektiger",
    ],
    "Veien videre": [
        "en utprøving i tre kommuner",
        "et felles styringsorgan for assistenten",
        "finansiering på tvers av sektorer",
        "involvering av brukerorganisasjoner",
        "måling av gevinster for innbyggerne",
        "samarbeid med private tjenestetilbydere",
    ],
}
OPENERS = [
    "Forslag:",
    "Erfaring med",
    "Hva med",
    "Viktig å tenke på",
    "Spørsmål om",
    "Innspill om",
    "Bekymring knyttet til",
]
BODY_SENTENCES = [
    "Vi har sett dette i egen virksomhet, og det koster både tid og tillit.",
    "Det bør være mulig å løse dette med eksisterende felleskomponenter.",
    "Brukerne vi har intervjuet nevner dette som det største hinderet.",
    "Her bør man se til Danmark og Estland, som har kommet langt.",
    "Løsningen må fungere like godt på mobil som på PC.",
    "Kommunene må med fra starten, ellers blir det bare en statlig løsning.",
    "Dette henger tett sammen med arbeidet med sammenhengende tjenester.",
    "Vi foreslår å starte smått og lære av en tidlig utprøving.",
    "Språket må være klart, og forklaringene korte.",
    "Husk dem som ikke kan eller vil bruke digitale kanaler.",
    "Datakvaliteten i kildene må være god nok før vi bygger videre.",
    "Ansvarsdelingen mellom etatene må avklares tidlig.",
]
COMMENT_SENTENCES = [
    "Enig, dette er et godt poeng.",
    "Vi har samme erfaring hos oss.",
    "Hvordan ser dere for dere at dette skal finansieres?",
    "Dette bør løftes inn i neste versjon av skissen.",
    "Jeg er usikker på om dette er lovlig uten samtykke.",
    "Har dere data som viser omfanget?",
    "Godt innspill! Det kobler fint mot brukerreisene.",
    "Her finnes det allerede en løsning i Altinn.",
    "Vi kan gjerne dele erfaringer fra vårt prosjekt.",
    "Dette må ses i sammenheng med personvernkonsekvensene.",
    "Kanskje en pilot i én kommune først?",
    "Takk, dette var nyttig.",
    "Jeg tror brukerne vil oppleve det annerledes.",
    "Kan vi samle disse forslagene i ett?",
    "Det er et viktig spørsmål, men hvem eier problemet?",
]
KINDS = ["idea", "idea", "insight", "insight", "question", "concern"]


def demo_org_number(rng: random.Random, used: set[str]) -> str:
    """Nine made-up digits with a valid MOD11 check digit (not a real registration)."""
    while True:
        first = str(rng.randint(91_000_000, 99_999_999))
        digit = org_number_check_digit(first)
        number = f"{first}{digit}"
        if digit is not None and number not in used:
            used.add(number)
            return number


def item_key(kind: str, n: int) -> uuid.UUID:
    return uuid.uuid5(KEY_NAMESPACE, f"{kind}-{n}")


class Command(BaseCommand):
    help = "Create the demo study, organisations, people and discussion (idempotent)."

    def handle(self, *args, **options) -> None:
        rng = random.Random(SEED)
        now = timezone.now().replace(microsecond=0)
        with transaction.atomic():
            organisations = self._organisations(rng)
            people, demo = self._people(rng, organisations)
            study, created = self._study(now)
            self._memberships(rng, study, people, demo, organisations)
            if created or not self._has_content(study):
                self._content(rng, study, now)
                # The items are bulk-created (no save signals): index them for search.
                call_command("rebuild_search_index", "--study", study.slug, stdout=StringIO())
            last = StudyEvent.objects.filter(study=study).aggregate(m=Max("seq"))["m"] or 0
            Study.objects.filter(pk=study.pk).update(last_event_seq=last)
        self._report(study)

    # --- organisations and people ----------------------------------------

    def _organisations(self, rng: random.Random) -> list[Organisation]:
        used: set[str] = set()
        numbers = [demo_org_number(rng, used) for _ in ORGANISATIONS]
        existing = {o.org_number: o for o in Organisation.objects.filter(org_number__in=numbers)}
        missing = [
            Organisation(
                name=name, sector=sector, website=website, org_number=number, verified=True
            )
            for (name, sector, website), number in zip(ORGANISATIONS, numbers, strict=True)
            if number not in existing
        ]
        Organisation.objects.bulk_create(missing)
        by_number = {o.org_number: o for o in Organisation.objects.filter(org_number__in=numbers)}
        organisations = [by_number[n] for n in numbers]
        # The e-mail domains of the organisations with a website (www. dropped):
        # a person signing up with such an address is confirmed at once.
        OrganisationDomain.objects.bulk_create(
            [
                OrganisationDomain(
                    organisation=org,
                    domain=website.split("//", 1)[1].split("/", 1)[0].removeprefix("www."),
                )
                for org, (_name, _sector, website) in zip(organisations, ORGANISATIONS, strict=True)
                if website
            ],
            ignore_conflicts=True,
        )
        return organisations

    def _people(
        self, rng: random.Random, organisations: list[Organisation]
    ) -> tuple[list[tuple[User, Organisation | None]], dict[str, User]]:
        specs = []
        for n in range(PEOPLE):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            # Eight people take part as themselves; the rest for an organisation,
            # the public sector a little more often, as in the original study.
            pick = organisations[min(int(rng.triangular(0, 16, 3)), 15)]
            org = None if n % 12 == 5 else pick
            specs.append((f"person{n:03d}@{DEMO_DOMAIN}", name, org))
        demo_specs = {
            "demo": ("demo@dugnad.localhost", "Demo Deltaker", organisations[5]),
            "facilitator": ("fasilitator@dugnad.localhost", "Frida Fasilitator", organisations[0]),
            "coordinator": (
                "koordinator@dugnad.localhost",
                "Kristian Koordinator",
                organisations[0],
            ),
        }
        # The platform administrator: creates studies, runs the registry. Not a
        # member of the demo study, and affiliated with no organisation.
        admin_spec = (ADMIN_EMAIL, "Ada Administrator", None)
        all_specs = specs + list(demo_specs.values()) + [admin_spec]
        emails = [email for email, _, _ in all_specs]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        demo_hash = make_password(DEMO_PASSWORD)
        demo_emails = {email for email, _, _ in demo_specs.values()} | {ADMIN_EMAIL}
        new_users = []
        for email, name, _ in all_specs:
            if email in existing:
                continue
            user = User(email=email, display_name=name)
            if email in demo_emails:
                user.password = demo_hash
            else:
                user.set_unusable_password()
            new_users.append(user)
        User.objects.bulk_create(new_users)
        User.objects.filter(email=ADMIN_EMAIL).update(is_administrator=True)
        users = {u.email: u for u in User.objects.filter(email__in=emails)}
        have_address = set(
            EmailAddress.objects.filter(user__in=users.values()).values_list("user_id", flat=True)
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=u, email=u.email, verified=True, primary=True)
                for u in users.values()
                if u.pk not in have_address
            ]
        )
        # Claims: most were confirmed by the administrator; some wait for
        # confirmation (their items say "oppgir å representere …"), among them
        # people of Digitaliseringsdirektoratet, whose representative is the
        # coordinator (the page /me/organisations/claims/), and everyone at the
        # last organisation, which is therefore counted as unconfirmed.
        admin = users[ADMIN_EMAIL]
        decided_at = timezone.now().replace(microsecond=0)
        claims = []
        for n, (email, _, org) in enumerate(all_specs):
            if org is None:
                continue
            waiting = n < PEOPLE and (
                n % 17 == 3
                or (org == organisations[0] and n % 3 == 1)
                or org == organisations[-1]  # no one confirmed yet: an unconfirmed organisation
            )
            claims.append(
                Affiliation(
                    user=users[email],
                    organisation=org,
                    state=ClaimState.PENDING if waiting else ClaimState.CONFIRMED,
                    decided_how="" if waiting else ClaimDecision.ADMINISTRATOR,
                    decided_by=None if waiting else admin,
                    decided_at=None if waiting else decided_at,
                    is_representative=email == "koordinator@dugnad.localhost",
                )
            )
        Affiliation.objects.bulk_create(claims, ignore_conflicts=True)
        self.claim_states = {
            (user_id, org_id): state
            for user_id, org_id, state in Affiliation.objects.filter(
                user__in=users.values()
            ).values_list("user_id", "organisation_id", "state")
        }
        people = [(users[email], org) for email, _, org in specs]
        demo = {key: users[email] for key, (email, _, _) in demo_specs.items()}
        demo_orgs = {key: org for key, (_, _, org) in demo_specs.items()}
        self.demo_orgs = demo_orgs
        return people, demo

    def _claim(self, user_id: int, org: Organisation | None) -> str:
        """The state of the person's claim, as an item posted for ``org`` records it."""
        if org is None:
            return ""
        return self.claim_states.get((user_id, org.pk), ClaimState.PENDING)

    # --- the study -------------------------------------------------------

    def _study(self, now: datetime) -> tuple[Study, bool]:
        study = Study.objects.filter(slug=STUDY_SLUG).first()
        if study is not None:
            return study, False
        opens = now - timedelta(days=42)
        study = Study.objects.create(
            slug=STUDY_SLUG,
            title="Digital assistent for innbyggere",
            summary=(
                "Hvordan kan en digital assistent hjelpe innbyggere gjennom livshendelser "
                "på tvers av offentlige tjenester? Vi skriver konseptskissen sammen, i det åpne."
            ),
            body=BODY_V08,
            status=StudyStatus.OPEN,
            visibility=Visibility.PUBLIC,
            joining=Joining.OPEN,
            moderation_mode=ModerationMode.POST,
            opens_at=opens,
            closes_at=now + timedelta(days=28),
            created_at=opens - timedelta(days=7),
        )
        sections = Section.objects.bulk_create(
            [
                Section(study=study, order=i, title=title, prompt=prompt)
                for i, (title, prompt) in enumerate(SECTIONS, start=1)
            ]
        )
        phases = [
            ("Problem og behov", opens, opens + timedelta(days=21), sections[:2]),
            ("Løsningsskisser", opens + timedelta(days=21), opens + timedelta(days=35), sections),
            (
                "Tilbakemelding på utkast 0.8",
                opens + timedelta(days=35),
                study.closes_at,
                sections,
            ),
        ]
        for title, starts, ends, open_sections in phases:
            phase = Phase.objects.create(study=study, title=title, starts_at=starts, ends_at=ends)
            phase.sections.set(open_sections)
        return study, True

    def _memberships(
        self,
        rng: random.Random,
        study: Study,
        people: list[tuple[User, Organisation | None]],
        demo: dict[str, User],
        organisations: list[Organisation],
    ) -> None:
        rows = [
            Membership(
                study=study,
                user=user,
                role=Role.CONTRIBUTOR,
                organisation=org,
                consent_named=(i % 3 != 0),
                joined_at=study.opens_at + timedelta(hours=i * 7),
            )
            for i, (user, org) in enumerate(people)
        ]
        roles = {"demo": Role.CONTRIBUTOR, "facilitator": Role.FACILITATOR}
        roles["coordinator"] = Role.COORDINATOR
        rows += [
            Membership(
                study=study,
                user=demo[key],
                role=role,
                organisation=self.demo_orgs[key],
                consent_named=True,
                joined_at=study.opens_at,
            )
            for key, role in roles.items()
        ]
        Membership.objects.bulk_create(rows, ignore_conflicts=True)

    def _has_content(self, study: Study) -> bool:
        contribution = Contribution
        return contribution.objects.filter(
            study=study, idempotency_key=item_key("contribution", 0)
        ).exists()

    def _content(self, rng: random.Random, study: Study, now: datetime) -> None:
        contribution_model = Contribution
        comment_model = Comment
        members = list(
            Membership.objects.filter(study=study, status="active")
            .select_related("user", "organisation")
            .order_by("user__email")
        )
        phases = list(Phase.objects.filter(study=study).prefetch_related("sections"))
        span = (now - timedelta(hours=2) - study.opens_at).total_seconds()

        def when(start: datetime) -> datetime:
            left = (now - timedelta(minutes=30) - start).total_seconds()
            # Activity bunches early in each item's life, like a real discussion.
            return start + timedelta(seconds=int(left * rng.random() ** 3) + 60)

        def sections_at(moment: datetime) -> list[Section]:
            for phase in phases:
                if phase.starts_at <= moment < phase.ends_at:
                    return list(phase.sections.all())
            return list(phases[-1].sections.all())

        contributions = []
        for n in range(CONTRIBUTIONS):
            membership = rng.choice(members)
            created = study.opens_at + timedelta(seconds=int(span * n / CONTRIBUTIONS))
            created += timedelta(seconds=rng.randint(0, 3000))
            section = rng.choice(sections_at(created))
            topic = rng.choice(TOPICS[section.title])
            title = f"{rng.choice(OPENERS)} {topic}"[:200]
            body = " ".join(rng.sample(BODY_SENTENCES, rng.randint(2, 4)))
            body = f"Om **{topic}**:\n\n{body}"
            state, reason = "published", ""
            if n % 50 == 17:
                state, reason = "hidden", "off_topic"
            elif n % 60 == 31:
                state = "withdrawn"
            org = membership.organisation
            contributions.append(
                contribution_model(
                    study=study,
                    author=membership.user,
                    title=title[0].upper() + title[1:],
                    body=body,
                    body_html=render_markdown(body),
                    section=section,
                    kind=rng.choice(KINDS),
                    state=state,
                    moderation_reason=reason,
                    acted_for=org,
                    acted_for_sector=org.sector if org else "",
                    acted_for_claim=self._claim(membership.user_id, org),
                    created_at=created,
                    idempotency_key=item_key("contribution", n),
                )
            )
        contribution_model.objects.bulk_create(contributions)
        contributions = list(
            contribution_model.objects.filter(
                study=study,
                idempotency_key__in=[item_key("contribution", n) for n in range(CONTRIBUTIONS)],
            ).order_by("created_at", "id")
        )
        published = [c for c in contributions if c.state == "published"]

        # Comments in three waves, so replies can point at comments that exist.
        waves = [int(COMMENTS * 0.55), int(COMMENTS * 0.3)]
        waves.append(COMMENTS - sum(waves))
        earlier: list = []
        n = 0
        for wave, size in enumerate(waves):
            batch = []
            for _ in range(size):
                membership = rng.choice(members)
                parent = None
                if wave > 0 and earlier and rng.random() < 0.8:
                    parent = rng.choice(earlier)
                    on = next(c for c in published if c.pk == parent.contribution_id)
                    start = parent.created_at
                else:
                    on = rng.choice(published)
                    start = on.created_at
                body = " ".join(rng.sample(COMMENT_SENTENCES, rng.randint(1, 3)))
                org = membership.organisation
                batch.append(
                    comment_model(
                        study=study,
                        contribution=on,
                        parent=parent,
                        author=membership.user,
                        body=body,
                        body_html=render_markdown(body),
                        acted_for=org,
                        acted_for_sector=org.sector if org else "",
                        acted_for_claim=self._claim(membership.user_id, org),
                        created_at=when(start),
                        idempotency_key=item_key("comment", n),
                    )
                )
                n += 1
            comment_model.objects.bulk_create(batch)
            earlier = list(
                comment_model.objects.filter(idempotency_key__in=[c.idempotency_key for c in batch])
            )

        coordinator = (
            Membership.objects.filter(study=study, role=Role.COORDINATOR)
            .select_related("user")
            .first()
        )
        by = coordinator.user if coordinator else None
        v05 = DocumentVersion.objects.create(
            study=study,
            number="0.5",
            body=BODY_V05,
            change_summary="Første skisse: bakgrunn og problemstilling.",
            published_at=study.opens_at + timedelta(days=1),
            published_by=by,
        )
        v08 = DocumentVersion.objects.create(
            study=study,
            number="0.8",
            body=BODY_V08,
            change_summary=(
                "Tok inn innspill om brukerreiser, felleskomponenter og personvern. "
                "Nytt kapittel om veien videre."
            ),
            published_at=study.opens_at + timedelta(days=35),
            published_by=by,
        )
        early = [c for c in published if c.created_at < v08.published_at]
        v08.taken_up.add(*rng.sample(early, min(8, len(early))))
        assert v05.pk  # both versions exist before anyone reads the study

    def _report(self, study: Study) -> None:
        # The same figures and sentence as the study's statistics page shows
        # (the current definitions), not raw row counts.
        figures = study_statistics(study=study)
        site = settings.SITE_URL
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo study “{study.title}” at {site}/studies/{study.slug}/ "
                f"({Membership.objects.filter(study=study).count()} members)."
            )
        )
        end = "." if figures.totals.participants else ""
        self.stdout.write(f"  {headline(figures, 'en')}{end}")
        self.stdout.write(f"  {headline(figures, 'nb')}{end}")
        self.stdout.write(f"  Statistics: {site}/reports/{study.slug}/statistics/")
        totals = figures.totals
        self.stdout.write(
            f"  Confirmed organisations: {totals.organisations}; unconfirmed: "
            f"{totals.unconfirmed_organisations} ({totals.unconfirmed_participants} people "
            f"waiting for confirmation; the coordinator represents "
            f"Digitaliseringsdirektoratet: {site}/me/organisations/claims/)"
        )
        self.stdout.write("Demo accounts (e-mail verified), all with the password:")
        self.stdout.write(f"  password:      {DEMO_PASSWORD}")
        self.stdout.write(
            f"  administrator: {ADMIN_EMAIL} (creates studies: {site}/administration/)"
        )
        self.stdout.write("  coordinator:   koordinator@dugnad.localhost")
        self.stdout.write("  facilitator:   fasilitator@dugnad.localhost")
        self.stdout.write("  contributor:   demo@dugnad.localhost")
        self.stdout.write(
            "Signing in needs no second factor. The administrator, the facilitator and the "
            "coordinator are asked to set up an authenticator app the first time they open "
            "administration, moderation, statistics or exports."
        )
        self.stdout.write(
            "The organisation numbers are made up (valid check digits, not real registrations)."
        )

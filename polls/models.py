"""Quick polls and short surveys inside a study.

Every vote and every survey response stores a snapshot of the organisation
and sector the person acted for when they first voted or answered, like
contributions do (contributions/models.py); statistics read only the
snapshot. The database holds the rules that must survive parallel requests:
one vote per person and poll, one response per person and survey, one choice
row per option and vote.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Organisation, Sector
from studies.models import Phase, Section, Study


class PollKind(models.TextChoices):
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")


class ResultsShown(models.TextChoices):
    LIVE = "live", _("To everyone, live")
    AFTER_VOTE = "after_vote", _("To each person after they have voted")
    AFTER_CLOSE = "after_close", _("To everyone after the poll closes")


class PollState(models.TextChoices):
    UPCOMING = "upcoming", _("Not open yet")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TextModeration(models.Model):
    """Free text a member typed ("other" in a poll, a survey answer): flagged and hidden
    by facilitators. A hidden text drops out of pages and exports, never out of counts."""

    text_hidden = models.BooleanField(default=False)
    text_hidden_reason = models.CharField(max_length=500, blank=True)
    text_flags = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class Poll(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="polls")
    section = models.ForeignKey(
        Section,
        verbose_name=_("section"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="polls",
    )
    question = models.CharField(_("question"), max_length=300)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    kind = models.CharField(
        _("kind"), max_length=10, choices=PollKind.choices, default=PollKind.SINGLE
    )
    allow_other = models.BooleanField(_("allow “Other” with text"), default=False)
    results_shown = models.CharField(
        _("results shown"), max_length=12, choices=ResultsShown.choices, default=ResultsShown.LIVE
    )
    opens_at = models.DateTimeField(_("opens"), null=True, blank=True)
    closes_at = models.DateTimeField(_("closes"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # closed early by its staff
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Raised on every visible change (a vote, a wording fix, closing); clients keep the highest.
    revision = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="poll_closes_after_it_opens",
            )
        ]

    def __str__(self) -> str:
        return self.question

    @property
    def dom_id(self) -> str:
        return f"poll-{self.pk}"

    def state(self, now=None) -> str:
        now = now or timezone.now()
        if self.closed_at is not None or (self.closes_at is not None and self.closes_at <= now):
            return PollState.CLOSED
        if self.opens_at is not None and self.opens_at > now:
            return PollState.UPCOMING
        return PollState.OPEN

    @property
    def is_open(self) -> bool:
        return self.state() == PollState.OPEN

    def results_public_now(self) -> bool:
        """Whether anyone who may see the study may see the counts at this moment."""
        if self.results_shown == ResultsShown.LIVE:
            return True
        return self.results_shown == ResultsShown.AFTER_CLOSE and self.state() == PollState.CLOSED


class PollOption(models.Model):
    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="options")
    order = models.PositiveSmallIntegerField()
    label = models.CharField(_("option"), max_length=200)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["poll", "order"], name="poll_option_order"),
        ]

    def __str__(self) -> str:
        return self.label


class PollVote(TextModeration):
    """One person's vote in one poll; changed in place while the poll is open."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="poll_votes"
    )
    options = models.ManyToManyField(PollOption, through="PollChoice", related_name="+")
    other_text = models.CharField(_("other"), max_length=200, blank=True)
    # Snapshot of who the voter acted for when they first voted; never rewritten.
    acted_for = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acted_for_sector = models.CharField(max_length=16, choices=Sector.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["poll", "voter"], name="poll_one_vote_per_person"),
        ]

    def __str__(self) -> str:
        return f"Vote {self.pk} in poll {self.poll_id}"


class PollChoice(models.Model):
    vote = models.ForeignKey(PollVote, on_delete=models.CASCADE, related_name="choices")
    option = models.ForeignKey(PollOption, on_delete=models.CASCADE, related_name="choices")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vote", "option"], name="poll_choice_once"),
        ]

    def __str__(self) -> str:
        return f"Option {self.option_id} in vote {self.vote_id}"


class PollRevision(models.Model):
    """A wording fix made after votes arrived: what it said before and after, who, when."""

    poll = models.ForeignKey(Poll, on_delete=models.CASCADE, related_name="revisions")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"Wording fix of poll {self.poll_id}"


# --- surveys -----------------------------------------------------------------------


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("One choice")
    MULTIPLE = "multiple", _("Several choices")
    SCALE = "scale", _("Scale 1–5")
    SHORT_TEXT = "short_text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")


CHOICE_KINDS = (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
TEXT_KINDS = (QuestionKind.SHORT_TEXT, QuestionKind.LONG_TEXT)
SCALE_MIN, SCALE_MAX = 1, 5


class Survey(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="surveys")
    phase = models.ForeignKey(
        Phase,
        verbose_name=_("phase"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="surveys",
    )
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True, max_length=2000)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["phase"], condition=Q(phase__isnull=False), name="survey_one_per_phase"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        if self.closed_at is not None:
            return False
        if self.phase_id is None:
            return True
        now = timezone.now()
        return self.phase.starts_at <= now < self.phase.ends_at


class SurveyQuestion(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    order = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=QuestionKind.choices)
    text = models.CharField(_("question"), max_length=300)
    required = models.BooleanField(_("required"), default=False)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["survey", "order"], name="survey_question_order"),
        ]

    def __str__(self) -> str:
        return self.text


class SurveyChoice(models.Model):
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="choices")
    order = models.PositiveSmallIntegerField()
    label = models.CharField(max_length=200)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.label


class ResponseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")


class SurveyResponse(models.Model):
    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="survey_responses"
    )
    status = models.CharField(
        max_length=10, choices=ResponseStatus.choices, default=ResponseStatus.DRAFT
    )
    acted_for = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acted_for_sector = models.CharField(max_length=16, choices=Sector.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["survey", "respondent"], name="survey_one_response_per_person"
            ),
        ]

    def __str__(self) -> str:
        return f"Response {self.pk} to survey {self.survey_id}"


class SurveyAnswer(TextModeration):
    response = models.ForeignKey(SurveyResponse, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(SurveyQuestion, on_delete=models.CASCADE, related_name="answers")
    choices = models.ManyToManyField(SurveyChoice, blank=True, related_name="answers")
    scale = models.PositiveSmallIntegerField(null=True, blank=True)
    text = models.TextField(blank=True, max_length=5000)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "question"], name="survey_answer_once"),
            models.CheckConstraint(
                condition=Q(scale__isnull=True) | Q(scale__gte=SCALE_MIN, scale__lte=SCALE_MAX),
                name="survey_scale_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"Answer to question {self.question_id}"


class TextFlag(models.Model):
    """A member's flag on free text (a poll's "other", a survey answer): once per person."""

    vote = models.ForeignKey(PollVote, null=True, on_delete=models.CASCADE, related_name="+")
    answer = models.ForeignKey(SurveyAnswer, null=True, on_delete=models.CASCADE, related_name="+")
    flagged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(vote__isnull=False, answer__isnull=True)
                | Q(vote__isnull=True, answer__isnull=False),
                name="text_flag_one_target",
            ),
            models.UniqueConstraint(fields=["vote", "flagged_by"], name="text_flag_vote_once"),
            models.UniqueConstraint(fields=["answer", "flagged_by"], name="text_flag_answer_once"),
        ]

    def __str__(self) -> str:
        return f"Flag by {self.flagged_by_id}"

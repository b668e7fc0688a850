"""The organisation registry for administrators: search, likely duplicates, merge, verify.

A merge points the duplicate (the source) at the organisation it belongs to
(the target) and keeps the history in OrganisationMerge. Statistics resolve
``merged_into`` one level deep, so this module keeps every ``merged_into``
pointing at an organisation that is not itself merged: a merge into a merged
organisation goes to the end of its chain, and organisations that had been
merged into the source are re-pointed to the target. Items keep their
snapshots; their counts follow the merge because statistics resolve it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from accounts.administrators import check_administrator
from accounts.models import Organisation
from reports.models import OrganisationMerge

# Legal forms and filler words that do not tell two organisations apart.
NAME_NOISE = {
    "as",
    "asa",
    "sa",
    "ans",
    "da",
    "ba",
    "iks",
    "kf",
    "nuf",
    "the",
    "ltd",
    "inc",
}
SIMILARITY = 0.88  # difflib ratio of normalised names that makes a likely duplicate
DUPLICATE_SCAN_LIMIT = 3000  # organisations compared at most (newest first)
COMMON_TRIGRAM = 60  # trigrams in more names than this do not propose pairs


class RegistryError(ValueError):
    """A registry change refused for a reason the person can act on; nothing changed."""


def normalised_name(name: str) -> str:
    """Lower case, accents and punctuation off, legal forms dropped: for comparing names."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("ø", "o").replace("æ", "ae").replace("å", "a")
    words = re.findall(r"[a-z0-9]+", text)
    return " ".join(w for w in words if w not in NAME_NOISE)


def organisations_search(*, query: str = "", unverified: bool = False) -> QuerySet[Organisation]:
    """Organisations whose name or number contains ``query``, with their merge target."""
    organisations = Organisation.objects.select_related("merged_into").order_by("name", "id")
    query = query.strip()
    if query:
        organisations = organisations.filter(
            Q(name__icontains=query) | Q(org_number__startswith=query.replace(" ", ""))
        )
    if unverified:
        organisations = organisations.filter(verified=False, merged_into__isnull=True)
    return organisations


@dataclass(frozen=True)
class DuplicatePair:
    first: Organisation
    second: Organisation
    reason: str  # "number", "name" or "similar"
    score: float

    @property
    def reason_label(self) -> str:
        return {
            "number": _("Same organisation number"),
            "name": _("Same name apart from case, punctuation and legal form"),
            "similar": _("Similar names"),
        }[self.reason]


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def duplicate_candidates(*, limit: int = DUPLICATE_SCAN_LIMIT) -> list[DuplicatePair]:
    """Likely duplicates among organisations not yet merged, most certain first.

    Same organisation number (ignoring spaces), the same normalised name, or
    normalised names with a difflib ratio of at least SIMILARITY. Only names
    that share an uncommon trigram are compared, and at most ``limit``
    organisations are read, so the cost stays bounded.
    """
    organisations = list(Organisation.objects.canonical().order_by("-created_at", "-id")[:limit])
    names = {o.pk: normalised_name(o.name) for o in organisations}
    by_id = {o.pk: o for o in organisations}
    found: dict[tuple[int, int], DuplicatePair] = {}

    def add(a: Organisation, b: Organisation, reason: str, score: float) -> None:
        first, second = sorted((a, b), key=lambda o: o.pk)
        key = (first.pk, second.pk)
        if key not in found:
            found[key] = DuplicatePair(first, second, reason, score)

    by_number: dict[str, list[Organisation]] = defaultdict(list)
    by_name: dict[str, list[Organisation]] = defaultdict(list)
    for org in organisations:
        if org.org_number:
            by_number[org.org_number.replace(" ", "")].append(org)
        if names[org.pk]:
            by_name[names[org.pk]].append(org)
    for group in by_number.values():
        for n, a in enumerate(group):
            for b in group[n + 1 :]:
                add(a, b, "number", 1.0)
    for group in by_name.values():
        for n, a in enumerate(group):
            for b in group[n + 1 :]:
                add(a, b, "name", 1.0)

    index: dict[str, list[int]] = defaultdict(list)
    for pk, name in names.items():
        for gram in _trigrams(name):
            index[gram].append(pk)
    compared: set[tuple[int, int]] = set()
    for pks in index.values():
        if len(pks) > COMMON_TRIGRAM:
            continue
        for n, a in enumerate(pks):
            for b in pks[n + 1 :]:
                key = (min(a, b), max(a, b))
                if key in compared or key in found:
                    continue
                compared.add(key)
                matcher = difflib.SequenceMatcher(None, names[a], names[b])
                if matcher.real_quick_ratio() < SIMILARITY or matcher.quick_ratio() < SIMILARITY:
                    continue
                ratio = matcher.ratio()
                if ratio >= SIMILARITY:
                    add(by_id[a], by_id[b], "similar", ratio)
    order = {"number": 0, "name": 1, "similar": 2}
    return sorted(
        found.values(),
        key=lambda p: (order[p.reason], -p.score, p.first.name.casefold(), p.first.pk),
    )


def _root(org: Organisation) -> tuple[Organisation, list[int]]:
    """The end of ``org``'s merge chain, locked, and the ids on the way."""
    path = [org.pk]
    while org.merged_into_id is not None:
        if org.merged_into_id in path:
            raise RegistryError(_("The organisations' merge history loops; fix it in the admin."))
        org = Organisation.objects.select_for_update().get(pk=org.merged_into_id)
        path.append(org.pk)
    return org, path


def organisation_merge(
    *, source_id: int, target_id: int, user, note: str = ""
) -> OrganisationMerge:
    """Merge ``source`` into ``target`` (or the end of target's merge chain).

    Refused with RegistryError, changing nothing: merging into itself, a
    source already merged, a target that is or leads to the source.
    """
    check_administrator(user)
    if source_id == target_id:
        raise RegistryError(_("An organisation cannot be merged into itself."))
    with transaction.atomic():
        locked = {
            o.pk: o
            for o in Organisation.objects.select_for_update()
            .filter(pk__in=[source_id, target_id])
            .order_by("pk")
        }
        if len(locked) != 2:
            raise RegistryError(_("One of the organisations does not exist."))
        source, target = locked[source_id], locked[target_id]
        if source.merged_into_id is not None:
            raise RegistryError(
                _("%(source)s is already merged into another organisation.")
                % {"source": source.name}
            )
        root, path = _root(target)
        if source.pk in path:
            raise RegistryError(
                _(
                    "%(target)s is merged into %(source)s: merging %(source)s into it "
                    "would make a loop."
                )
                % {"target": target.name, "source": source.name}
            )
        repointed = list(
            Organisation.objects.select_for_update()
            .filter(merged_into=source)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        Organisation.objects.filter(pk__in=repointed).update(merged_into=root)
        source.merged_into = root
        source.save(update_fields=["merged_into"])
        merge_note = note.strip()
        if root.pk != target.pk:
            resolved = _("Asked to merge into %(target)s, which is merged into %(root)s.") % {
                "target": target.name,
                "root": root.name,
            }
            merge_note = f"{merge_note} {resolved}".strip()
        return OrganisationMerge.objects.create(
            source=source,
            target=root,
            merged_by=user,
            repointed=repointed,
            note=merge_note[:500],
        )


def organisation_verify(*, organisation_id: int, user, verified: bool = True) -> Organisation:
    """Mark an organisation as checked by an administrator (or take the mark away)."""
    check_administrator(user)
    with transaction.atomic():
        org = Organisation.objects.select_for_update().filter(pk=organisation_id).first()
        if org is None:
            raise RegistryError(_("That organisation does not exist."))
        if verified and org.merged_into_id is not None:
            raise RegistryError(
                _("%(name)s is merged into another organisation: verify that one instead.")
                % {"name": org.name}
            )
        if org.verified != verified:
            org.verified = verified
            org.save(update_fields=["verified"])
    return org


def merge_history(*, organisation: Organisation) -> QuerySet[OrganisationMerge]:
    """Every merge with this organisation on either side, newest first."""
    return OrganisationMerge.objects.filter(
        Q(source=organisation) | Q(target=organisation)
    ).select_related("source", "target", "merged_by")

"""Statements, from a declarant's consent to the public list.

A consented statement waits in the coordinators' queue (``statements_to_moderate``),
where it is shown masked (masking.py) and never as the sealed original; a coordinator
publishes an edited copy (``statement_approve``) or rejects it with a reason
(``statement_reject``). A declaration withdrawn takes its statement off the list
(``declaration_revoke``). The published list is read a page at a time by id (keyset),
filtered by province, day, organization or words (``statements_published``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.declarations.masking import statement_mask
from tuidang.declarations.models import (
    Organization,
    RejectionReason,
    Statement,
    StatementGram,
    StatementStatus,
)

MAX_STATEMENT = 2000
MAX_ALIAS = 80
PAGE = 20
# A search's bigram found in fewer statements than this is "rare": the page is read from
# its statements. When every bigram is common, the page is read newest first, each
# statement checked for the bigrams by the index, until a page is full or this many ids
# were passed: common bigrams that seldom meet then give a page short of full (even
# empty) with a link to search on below it, never a read of the whole table.
RARE_GRAM = 5_000
SEARCH_WINDOW = 50_000


class NotModerated(ValueError):
    """The statement has been moderated already, or was withdrawn."""


def statements_to_moderate() -> QuerySet[Statement]:
    """The queue, oldest first; statements held in a flood after the rest."""
    return (
        Statement.objects.filter(status__in=[StatementStatus.PENDING, StatementStatus.HELD])
        .select_related("declaration")
        .order_by("-status", "id")  # "pending" sorts after "held": reversed
    )


def statement_draft(*, statement: Statement, by: User) -> tuple[str, str]:
    """The alias and the statement as a coordinator first sees them: masked. Opening the
    sealed original is a read of sensitive data, and audited."""
    declaration = statement.declaration
    audit_record(actor=by, action=Action.VIEW, target=declaration)
    return statement_mask(declaration.alias), statement_mask(declaration.statement)


def statement_approve(*, statement: Statement, text: str, alias: str, by: User) -> Statement:
    """Publish ``text`` (the reviewed copy) under ``alias``."""
    text, alias = text.strip(), alias.strip()
    if not text or len(text) > MAX_STATEMENT or not alias or len(alias) > MAX_ALIAS:
        raise ValueError("a published statement needs its text and an alias, within bounds")
    with transaction.atomic():
        locked = _pending(statement)
        locked.status = StatementStatus.PUBLISHED
        locked.text = text
        locked.alias = alias
        locked.published_at = timezone.now()
        locked.reviewed_by = by
        locked.save(update_fields=["status", "text", "alias", "published_at", "reviewed_by"])
        StatementGram.objects.bulk_create(
            [StatementGram(gram=gram, statement=locked) for gram in grams(f"{alias} {text}")]
        )
        audit_record(actor=by, action=Action.CHANGE, target=locked)
    return locked


def statement_reject(*, statement: Statement, reason: str, by: User) -> Statement:
    if reason not in RejectionReason.values:
        raise ValueError(f"reason must be one of {', '.join(RejectionReason.values)}")
    with transaction.atomic():
        locked = _pending(statement)
        locked.status = StatementStatus.REJECTED
        locked.rejection = reason
        locked.reviewed_by = by
        locked.save(update_fields=["status", "rejection", "reviewed_by"])
        audit_record(actor=by, action=Action.CHANGE, target=locked)
    return locked


def statement_withdraw(*, declaration_id: int) -> None:
    """Take a revoked declaration's statement off the list (in the revocation's
    transaction) and out of the search index."""
    withdrawn = Statement.objects.filter(declaration_id=declaration_id)
    StatementGram.objects.filter(statement__in=withdrawn).delete()
    withdrawn.update(status=StatementStatus.WITHDRAWN)


def _pending(statement: Statement) -> Statement:
    # Under a row lock: two coordinators deciding the same statement, one wins.
    locked = Statement.objects.select_for_update().get(pk=statement.pk)
    if locked.status not in (StatementStatus.PENDING, StatementStatus.HELD):
        raise NotModerated(f"statement {locked.pk} is {locked.status}")
    return locked


def _folded(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def grams(text: str) -> set[str]:
    """Every two neighbouring characters of ``text``, folded, that hold no space."""
    folded = _folded(text)
    return {
        folded[i : i + 2]
        for i in range(len(folded) - 1)
        if not folded[i].isspace() and not folded[i + 1].isspace()
    }


def _having_grams(
    found: QuerySet[Statement], wanted: list[str]
) -> tuple[QuerySet[Statement], bool]:
    """``found`` narrowed to statements with every bigram of ``wanted``, read the cheaper
    way round (``RARE_GRAM``): a rare bigram's few statements, or newest first with an
    index lookup per bigram (then True: the caller bounds the walk). Each bigram's count
    is read only as far as ``RARE_GRAM``."""
    if not wanted:
        return found, False
    seen = {gram: StatementGram.objects.filter(gram=gram)[:RARE_GRAM].count() for gram in wanted}
    rarest = min(wanted, key=seen.__getitem__)
    for gram in wanted:
        if gram == rarest and seen[gram] < RARE_GRAM:
            among = StatementGram.objects.filter(gram=gram).values("statement_id")
            found = found.filter(id__in=among)
        else:
            found = found.filter(
                Exists(StatementGram.objects.filter(gram=gram, statement_id=OuterRef("pk")))
            )
    return found, seen[rarest] >= RARE_GRAM


def _newest_id() -> int:
    newest = Statement.objects.order_by("-id").values_list("id", flat=True).first()
    return newest or 0


@dataclass(frozen=True)
class Filters:
    region: str = ""
    organization: str = ""
    day: date | None = None
    words: str = ""


def statements_published(
    *, filters: Filters, before: int | None
) -> tuple[list[Statement], int | None]:
    """A page of the published list, newest first, from just below id ``before``, and
    the ``before`` of the next page (None: this is the last)."""
    found = Statement.objects.filter(status=StatementStatus.PUBLISHED)
    if filters.region:
        found = found.filter(region=filters.region)
    if filters.organization in Organization.values:
        found = found.filter(**{filters.organization: True})
    if filters.day is not None:
        found = found.filter(declared_on=filters.day)
    words = _folded(filters.words.strip())
    found, walks = _having_grams(found, sorted(grams(words))[:6])
    if words and len(words) < 2:
        found = found.filter(text__icontains=words)
    if before is not None:
        found = found.filter(id__lt=before)
    floor = None
    if walks:
        top = before if before is not None else _newest_id() + 1
        floor = top - SEARCH_WINDOW
        found = found.filter(id__gte=floor)
    page = list(found.select_related("declaration").order_by("-id")[: PAGE + 1])
    following = page[PAGE - 1].pk if len(page) > PAGE else None
    if following is None and floor is not None and floor > 1:
        following = floor  # searched this far: the next page goes on below
    page = page[:PAGE]
    if words:
        # The bigrams are there, in any order: the words themselves must be.
        page = [s for s in page if all(w in _folded(f"{s.alias} {s.text}") for w in words.split())]
    return page, following

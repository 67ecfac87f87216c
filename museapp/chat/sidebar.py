"""The conversation list in the sidebar: pinned conversations first, then the
rest newest first under date headings (Today, Yesterday, Previous 7 days,
Previous 30 days, then by month), loaded a page at a time as it scrolls.

Pages are cut by keyset on (updated_at, id), so the 40th page costs what the
first does; a page carries on the group the one before it ended in, so a
heading is never repeated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone as dt_timezone, tzinfo

from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from museapp.chat.models import Conversation

PAGE_SIZE = 50
FIELDS = ("id", "title", "updated_at", "pinned_at")
EPOCH = datetime(1970, 1, 1, tzinfo=dt_timezone.utc)
ONE_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Group:
    key: str  # for the heading's DOM id: group-<key>
    label: str


PINNED = Group("pinned", "Pinned")
TODAY = Group("today", "Today")
YESTERDAY = Group("yesterday", "Yesterday")
LAST_WEEK = Group("7-days", "Previous 7 days")
LAST_MONTH = Group("30-days", "Previous 30 days")


def group_of(moment: datetime, *, today: date, zone: tzinfo) -> Group:
    """The heading a conversation last changed at ``moment`` sits under,
    seen from ``today`` in the person's time zone."""
    day = moment.astimezone(zone).date()
    days = (today - day).days
    if days <= 0:  # today (or a clock a little ahead)
        return TODAY
    if days == 1:
        return YESTERDAY
    if days <= 7:
        return LAST_WEEK
    if days <= 30:
        return LAST_MONTH
    label = day.strftime("%B") if day.year == today.year else day.strftime("%B %Y")
    return Group(day.strftime("%Y-%m"), label)


@dataclass(frozen=True)
class Cursor:
    """Where a page ends: the last conversation's (updated_at, id)."""
    updated_at: datetime
    id: int

    def encode(self) -> str:
        return f"{(self.updated_at - EPOCH) // ONE_MICROSECOND}.{self.id}"

    @classmethod
    def parse(cls, text: str) -> "Cursor":
        """A cursor from a URL, or Http404: never a database error."""
        micros, _, pk = text.partition(".")
        if not (micros.isascii() and micros.isdigit() and pk.isascii() and pk.isdigit()) or len(micros) > 18:
            raise Http404("No such page.")
        return cls(EPOCH + int(micros) * ONE_MICROSECOND, int(pk))


@dataclass(frozen=True)
class Row:
    heading: Group | None  # shown above the conversation: the first of its group
    conversation: Conversation | None  # None: a heading alone


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    after: str  # the next page's cursor; "" when this is the last


def sidebar_page(*, user, after: Cursor | None, zone: tzinfo, now: datetime | None = None) -> Page:
    """One page of the person's list. The first has the pinned conversations
    and always a Today heading (empty Today headings are hidden by the
    stylesheet), where a conversation that gets a message is moved live."""
    today = (now or timezone.now()).astimezone(zone).date()
    listed = Conversation.objects.filter(user=user).listed().only(*FIELDS)
    rows: list[Row] = []
    if after is None:
        pinned = listed.filter(pinned_at__isnull=False).order_by("-pinned_at", "-id")
        rows += [Row(PINNED if not index else None, c) for index, c in enumerate(pinned)]
        rows.append(Row(TODAY, None))
        previous = TODAY
    else:
        previous = group_of(after.updated_at, today=today, zone=zone)
    batch = list(_unpinned_after(listed, after)[:PAGE_SIZE + 1])
    for conversation in batch[:PAGE_SIZE]:
        group = group_of(conversation.updated_at, today=today, zone=zone)
        rows.append(Row(group if group != previous else None, conversation))
        previous = group
    last = batch[PAGE_SIZE - 1] if len(batch) > PAGE_SIZE else None
    return Page(rows, Cursor(last.updated_at, last.pk).encode() if last else "")


def _unpinned_after(listed, after: Cursor | None):
    unpinned = listed.filter(pinned_at__isnull=True).order_by("-updated_at", "-id")
    if after is None:
        return unpinned
    return unpinned.filter(Q(updated_at__lt=after.updated_at) | Q(updated_at=after.updated_at, id__lt=after.id))

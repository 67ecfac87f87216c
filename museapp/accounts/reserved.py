"""Usernames nobody may sign up as: Muse's own accounts (``muse-evaluation``,
made by ``manage.py evaluate``) and names a person could pass off as the
site's. Compared case-insensitively: ``MUSE-Evaluation`` is refused too."""

from __future__ import annotations

import re

RESERVED_USERNAMES = frozenset({
    "muse", "admin", "administrator", "root", "superuser", "staff", "support", "system", "moderator",
})
# Every name Muse itself uses starts with "muse-"; the other separators a
# username may hold look the same on a page.
MUSE_PREFIX = re.compile(r"muse[-_.+@]")


def username_is_reserved(username: str) -> bool:
    name = username.strip().casefold()
    return name in RESERVED_USERNAMES or bool(MUSE_PREFIX.match(name))

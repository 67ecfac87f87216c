"""A conversation's tree of messages, and the branch it shows.

Each message follows its parent; messages with one parent and one author
are versions of each other (a regenerated answer, an edited question). The
branch shown (and read by the model) runs from the conversation's current
leaf up to its first message. The tree is read in one indexed query of
ids (``conversation``, ``id``), never the texts.
"""

from __future__ import annotations

from dataclasses import dataclass

from museapp.chat.models import Conversation, Message


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    author: str


Tree = dict[int, Node]


def tree_of(conversation_id: int, *, before_id: int | None = None) -> Tree:
    rows = Message.objects.filter(conversation_id=conversation_id)
    if before_id is not None:
        rows = rows.filter(pk__lt=before_id)  # a parent is always older than its children
    return {pk: Node(pk, parent, author) for pk, parent, author in rows.values_list("id", "parent_id", "author")}


def path_to(leaf: int | None, tree: Tree) -> list[int]:
    """The ids from the first message down to ``leaf``."""
    path: list[int] = []
    while leaf is not None and leaf in tree and len(path) <= len(tree):
        path.append(leaf)
        leaf = tree[leaf].parent_id
    return path[::-1]


def leaf_of(conversation: Conversation, tree: Tree) -> int | None:
    """The shown branch's last message: the current leaf, or the latest."""
    if conversation.current_leaf_id in tree:
        return conversation.current_leaf_id
    return max(tree) if tree else None


def shown_leaf(conversation: Conversation) -> int | None:
    """``leaf_of`` without loading the tree: the current leaf (a foreign
    key, so a message that exists), or the latest message."""
    if conversation.current_leaf_id is not None:
        return conversation.current_leaf_id
    return Message.objects.filter(conversation_id=conversation.pk).order_by("-pk").values_list("pk", flat=True).first()


def shown(conversation: Conversation) -> list[int]:
    """The ids of the branch shown, first message first."""
    tree = tree_of(conversation.pk)
    return path_to(leaf_of(conversation, tree), tree)


def version_groups(tree: Tree) -> dict[tuple[int | None, str], list[int]]:
    """Each set of versions (same parent, same author), oldest first: one
    pass over the tree, however many messages ask."""
    groups: dict[tuple[int | None, str], list[int]] = {}
    for node in sorted(tree.values(), key=lambda n: n.id):
        groups.setdefault((node.parent_id, node.author), []).append(node.id)
    return groups


def newest_leaf_under(message_id: int, tree: Tree) -> int:
    """Where a version leads: down its newest replies to the end."""
    children: dict[int, list[int]] = {}
    for node in tree.values():
        if node.parent_id is not None:
            children.setdefault(node.parent_id, []).append(node.id)
    leaf = message_id
    while children.get(leaf):
        leaf = max(children[leaf])
    return leaf


@dataclass(frozen=True)
class VersionNav:
    """What a message's version controls show: "2 / 3" and its neighbours."""

    position: int
    count: int
    previous_id: int | None
    next_id: int | None


def version_nav(ids: list[int], message_id: int) -> VersionNav | None:
    """The controls of ``message_id`` among its versions ``ids``."""
    if len(ids) < 2:
        return None
    at = ids.index(message_id)
    return VersionNav(at + 1, len(ids), ids[at - 1] if at else None, ids[at + 1] if at + 1 < len(ids) else None)


def with_versions(messages: list[Message], tree: Tree | None = None) -> list[Message]:
    """Give each message its ``versions`` (a VersionNav or None) for the
    partial: one query of the conversation's tree."""
    if not messages:
        return messages
    tree = tree if tree is not None else tree_of(messages[0].conversation_id)
    groups = version_groups(tree)
    for message in messages:
        node = tree.get(message.pk)
        message.versions = version_nav(groups[(node.parent_id, node.author)], node.id) if node else None
    return messages

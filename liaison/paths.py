"""Materialised paths (django-treebeard's MP_Node): the organisation tree as strings.

An organisation's path is its ancestors' paths followed by STEPLEN characters of its own,
so a subtree is `path LIKE '<path>%'` and the ancestors are the path's prefixes. Every
place that walks the tree by its paths uses these helpers; no app is imported here.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

STEPLEN = 4  # treebeard's default; members.models.Organisation.steplen is this value


def ancestor_paths(path: str, *, include_self: bool = False, steplen: int = STEPLEN) -> list[str]:
    """The paths above `path`, root first (and `path` itself last when include_self)."""
    end = len(path) + 1 if include_self else len(path)
    return [path[:length] for length in range(steplen, end, steplen)]


def root_path(path: str, *, steplen: int = STEPLEN) -> str:
    """The path of the tree's root above (or at) `path`."""
    return path[:steplen]


def in_subtrees(path: str, roots: Iterable[str]) -> bool:
    """Whether `path` lies in the subtree of one of `roots` (a root is in its own subtree)."""
    return any(path.startswith(root) for root in roots)


def outermost(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop paths that lie inside another path of the set: their subtree is already covered."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not in_subtrees(path, roots):
            roots.append(path)
    return tuple(roots)


def subtree_q(paths: Iterable[str], *, field: str = "organisation__path") -> Q:
    """A filter matching rows whose `field` lies in one of the subtrees; none when there is none."""
    condition = Q(pk__in=[])
    for path in paths:
        condition |= Q(**{f"{field}__startswith": path})
    return condition

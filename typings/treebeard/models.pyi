# Minimal stubs for django-treebeard 7 (it ships no types, and no stubs package on PyPI
# matches it): only what Liaison uses, so that the django-stubs plugin sees the tree
# models as models. Extend as the code uses more of treebeard.
from typing import Any, ClassVar, TypeVar

from django.db import models

_N = TypeVar("_N", bound=Node)

class Node(models.Model):
    node_order_by: ClassVar[list[str]]

class NodeManager(models.Manager[_N]):
    def add_root(self, create_kwargs: dict[str, Any] | None = None, *, instance: _N | None = None) -> _N: ...
    def add_child(
        self, target: _N, create_kwargs: dict[str, Any] | None = None, *, instance: _N | None = None
    ) -> _N: ...
    def get_root_nodes(self) -> models.QuerySet[_N]: ...
    def get_parent(self, node: _N, update: bool = False) -> _N | None: ...

"""The ``IdentityResolver`` port: one person, many system ids.

A MES badge number, an ERP user name and an HRIS employee id are resolved to one
:class:`~perfcore.domain.values.SubjectRef`. Unresolved ids are reported (``None``), never guessed.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from perfcore.domain.values import SubjectRef

__all__ = ["IdentityResolver"]


@runtime_checkable
class IdentityResolver(Protocol):
    """Maps ``(system, external_id)`` to a subject.

    ``system`` is the name of the source system as declared in the plan (e.g. ``"mes"``,
    ``"crm"``); ``external_id`` is the id that system uses. Returns ``None`` when the id is not
    known: the caller quarantines the record with reason ``unresolved identity``.
    """

    def resolve(self, system: str, external_id: str) -> SubjectRef | None:
        """The subject for an external id, or ``None`` when it is not mapped."""
        ...

"""The objective tree: parents, children, alignment across owners and the exact weighted roll-up.

See :mod:`perfcore.domain.objective` for the semantics (progress from baseline, unclamped; a
group's progress is the weighted mean of its non-archived children that have a value; exact and
order-independent). This module holds the mutable :class:`ObjectiveTree` and the
:class:`RollUp` explanation it produces.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from fractions import Fraction

from attrs import evolve, frozen

from perfcore.domain.errors import (
    Conflict,
    CycleError,
    DomainError,
    InvalidValue,
    InvalidWeight,
    NotFound,
)
from perfcore.domain.objective import (
    Objective,
    ObjectiveState,
    Weighting,
    as_weight,
    baseline_progress,
    to_decimal,
)
from perfcore.domain.values import SubjectRef, as_decimal

__all__ = ["Excluded", "ObjectiveTree", "RollUp", "RollUpPart"]


@frozen
class RollUpPart:
    """One child's share in its parent's roll-up.

    ``share = weight / Σ weights`` over the children that counted;
    ``contribution = share × progress``.
    """

    child_id: str
    owner: SubjectRef | None
    weight: Decimal
    progress: Decimal
    share: Decimal
    contribution: Decimal


@frozen
class Excluded:
    """A child left out of a roll-up, with the reason (``"archived"`` or ``"no value"``)."""

    child_id: str
    reason: str


@frozen
class RollUp:
    """The explanation of one objective's progress.

    Attributes:
        objective_id: the objective explained.
        progress: its progress (1 = 100 %), or None when it has no value.
        parts: the children that counted (empty for a key result).
        excluded: children left out and why; a non-empty list means the weights were
            renormalised over ``parts``.
        note: one plain sentence describing how the number was obtained.
    """

    objective_id: str
    progress: Decimal | None
    parts: tuple[RollUpPart, ...] = ()
    excluded: tuple[Excluded, ...] = ()
    note: str = ""

    @property
    def renormalised(self) -> bool:
        """True when some non-archived child had no value and the others were renormalised."""
        return any(e.reason == "no value" for e in self.excluded)


def _here(objective_id: str) -> str:
    return f"objectives[{objective_id}]"


class ObjectiveTree:
    """A forest of objectives with an exact, order-independent weighted roll-up.

    Mutating methods change nothing when they raise: a change that would leave an ancestor
    unable to roll up (e.g. archiving the last child with a non-zero weight) is undone and its
    error re-raised. Progress is computed on
    demand from the current nodes, so after :meth:`reparent`, :meth:`remove`,
    :meth:`set_weight`, :meth:`transition` ... both the old and the new ancestors reflect the
    change; those methods return the recomputed progress of every affected ancestor
    (``{objective_id: progress or None}``) so callers can emit events.

    Typical use::

        tree = ObjectiveTree()
        tree.add(Objective("plant", "Plant OEE", owner=SubjectRef.person("PM")))
        tree.add(Objective("line-3", "Line 3 OEE", owner=SubjectRef.person("TL3"),
                           parent_id="plant", baseline=60, target=75, current=66))
        tree.progress("plant")  # Decimal("0.4")
    """

    def __init__(self, objectives: Iterable[Objective] = ()) -> None:
        self._nodes: dict[str, Objective] = {}
        self._children: dict[str, dict[str, None]] = {}
        self._cache: dict[str, Fraction | None] = {}
        pending = list(objectives)
        if pending:
            self._load(pending)

    # -- construction --------------------------------------------------------------------
    @classmethod
    def build(cls, objectives: Iterable[Objective]) -> ObjectiveTree:
        """Build a tree from objectives given in any order (parents may come after children).

        Raises:
            Conflict: two objectives share an id.
            NotFound: a ``parent_id`` names no objective.
            CycleError: parent links form a cycle; ``path`` lists it, first id repeated.
            InvalidValue: a key result (an objective with a target) is given children.
            InvalidWeight: some group's non-archived children all have weight 0, or a
                target-weighted child has no target or a negative one.
        """
        return cls(objectives)

    def _load(self, objectives: list[Objective]) -> None:
        nodes: dict[str, Objective] = {}
        for o in objectives:
            if o.id in nodes:
                raise Conflict(
                    f"objective id {o.id!r} is used twice",
                    field=f"{_here(o.id)}.id",
                    valid="unique objective ids",
                )
            nodes[o.id] = o
        for o in nodes.values():
            if o.parent_id is not None and o.parent_id not in nodes:
                raise _unknown_parent(o.id, o.parent_id, nodes)
        safe: set[str] = set()  # ids whose parent chain is known to end at a root
        for start in nodes:
            path: dict[str, int] = {}
            cur: str | None = start
            while cur is not None and cur not in safe:
                if cur in path:
                    chain = list(path)
                    loop = [*chain[path[cur] :], cur]
                    raise CycleError(
                        f"objectives form a cycle: {' -> '.join(loop)}",
                        field=f"{_here(cur)}.parent_id",
                        path=loop,
                    )
                path[cur] = len(path)
                cur = nodes[cur].parent_id
            safe.update(path)
        for o in nodes.values():
            if o.parent_id is not None:
                _check_can_have_children(nodes[o.parent_id], o.id)
        self._nodes = nodes
        self._cache = {}
        self._children = {i: {} for i in nodes}
        for i in sorted(nodes):
            parent = nodes[i].parent_id
            if parent is not None:
                self._children[parent][i] = None
        self.rollup()  # refuse weights that cannot roll up (all zero, bad target weights)

    # -- reading -------------------------------------------------------------------------
    def __contains__(self, objective_id: object) -> bool:
        return objective_id in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[Objective]:
        return iter(list(self._nodes.values()))

    def get(self, objective_id: str) -> Objective:
        """The objective with this id.

        Raises:
            NotFound: no such objective (field ``objectives[<id>]``).
        """
        try:
            return self._nodes[objective_id]
        except KeyError:
            raise NotFound(
                f"unknown objective {objective_id!r}",
                field=_here(objective_id),
                valid=_some_ids(self._nodes),
            ) from None

    def children(self, objective_id: str) -> tuple[Objective, ...]:
        """Direct children (archived ones included), sorted by id."""
        self.get(objective_id)
        return tuple(self._nodes[c] for c in sorted(self._children[objective_id]))

    def roots(self) -> tuple[Objective, ...]:
        """Objectives without a parent, sorted by id."""
        return tuple(o for _, o in sorted(self._nodes.items()) if o.parent_id is None)

    def ancestors(self, objective_id: str) -> list[str]:
        """Parent, grandparent, ... up to the root (nearest first)."""
        out: list[str] = []
        cur = self.get(objective_id).parent_id
        while cur is not None:
            out.append(cur)
            cur = self._nodes[cur].parent_id
        return out

    def contributors(self, objective_id: str) -> tuple[Objective, ...]:
        """Alignment: non-archived direct children owned by someone other than this objective's
        owner.

        These are the cross-owner "contributes to" links (e.g. team leaders' objectives under the
        plant manager's); they feed the roll-up like any other child.
        """
        owner = self.get(objective_id).owner
        return tuple(
            o for o in self.children(objective_id) if o.owner != owner and not o.is_archived
        )

    def overdue(self, today: dt.date) -> tuple[Objective, ...]:
        """Open objectives whose due date is before ``today`` (the clock's local date)."""
        return tuple(o for _, o in sorted(self._nodes.items()) if o.is_overdue(today))

    # -- roll-up -------------------------------------------------------------------------
    def progress(self, objective_id: str) -> Decimal | None:
        """Progress of one objective (1 = 100 %), or None when it has no value.

        Raises:
            NotFound: unknown id.
            InvalidWeight: all non-archived children of some group below have weight 0, or a
                target-weighted child has a negative target or none.
        """
        p = self._value(objective_id)
        return None if p is None else to_decimal(p)

    def rollup(self) -> dict[str, Decimal | None]:
        """Progress of every objective, keyed by id (sorted)."""
        out: dict[str, Decimal | None] = {}
        for i in sorted(self._nodes):
            p = self._value(i)
            out[i] = None if p is None else to_decimal(p)
        return out

    def explain(self, objective_id: str) -> RollUp:
        """How an objective's progress was obtained: parts, shares, exclusions, a sentence."""
        o = self.get(objective_id)
        if o.is_key_result:
            assert o.baseline is not None
            p = o.own_progress()
            now = o.baseline if o.current is None else o.current
            if p is None:
                note = f"target equals baseline ({o.target}); progress cannot be measured"
            else:
                note = (
                    f"({now} - {o.baseline}) / ({o.target} - {o.baseline}) = {p} "
                    "measured from the baseline, not clamped"
                )
            return RollUp(objective_id, p, note=note)
        memo = {c: self._value(c) for c in self._children[objective_id]}
        counted, excluded = self._split_children(objective_id, memo)
        if not counted:
            note = "no child with a value; this objective has no value"
            return RollUp(objective_id, None, (), tuple(excluded), note)
        total_w = sum((w for _, w, _ in counted), Fraction(0))
        parts = tuple(
            RollUpPart(
                child_id=c,
                owner=self._nodes[c].owner,
                weight=to_decimal(w),
                progress=to_decimal(p),
                share=to_decimal(w / total_w),
                contribution=to_decimal(w * p / total_w),
            )
            for c, w, p in counted
        )
        p_all = self._value(objective_id)
        how = "target-weighted" if o.weighting is Weighting.TARGET else "weighted"
        note = f"{how} mean of {len(parts)} child objective(s)"
        if any(e.reason == "no value" for e in excluded):
            note += "; children without a value were left out and the weights renormalised"
        return RollUp(
            objective_id,
            None if p_all is None else to_decimal(p_all),
            parts,
            tuple(excluded),
            note,
        )

    def _weight_of(self, parent: Objective, child: Objective) -> Fraction:
        if parent.weighting is Weighting.EXPLICIT:
            return Fraction(child.weight)
        if child.target is None:
            raise InvalidWeight(
                f"{parent.id!r} weighs children by target but {child.id!r} has no target",
                field=f"{_here(child.id)}.target",
                valid="a key result with a target >= 0, or explicit weighting on the parent",
            )
        if child.target < 0:
            raise InvalidWeight(
                f"target {child.target} cannot be used as a weight",
                field=f"{_here(child.id)}.target",
                valid="a target >= 0 when the parent weighs children by target",
            )
        return Fraction(child.target)

    def _split_children(
        self, objective_id: str, memo: Mapping[str, Fraction | None]
    ) -> tuple[list[tuple[str, Fraction, Fraction]], list[Excluded]]:
        parent = self._nodes[objective_id]
        counted: list[tuple[str, Fraction, Fraction]] = []
        excluded: list[Excluded] = []
        live: list[tuple[str, Fraction]] = []
        for c in sorted(self._children[objective_id]):
            child = self._nodes[c]
            if child.is_archived:
                excluded.append(Excluded(c, "archived"))
                continue
            live.append((c, self._weight_of(parent, child)))
        if live and all(w == 0 for _, w in live):
            raise InvalidWeight(
                f"all non-archived children of {objective_id!r} have weight 0",
                field=f"{_here(objective_id)}.children[*].weight",
                valid="at least one non-archived child with a weight > 0",
            )
        for c, w in live:
            p = memo[c]
            if p is None:
                excluded.append(Excluded(c, "no value"))
            else:
                counted.append((c, w, p))
        if counted and sum(w for _, w, _ in counted) == 0:
            for c, _, _ in counted:
                excluded.append(Excluded(c, "no value"))
            counted = []
        return counted, excluded

    def _value(self, objective_id: str) -> Fraction | None:
        """Exact progress of one objective, using and filling the cache.

        The cache holds the progress of objectives whose subtree has not changed since it was
        computed; every change invalidates the changed node and its ancestors, so a change costs
        one walk up the tree plus the siblings' cached values.
        """
        self.get(objective_id)
        cache = self._cache
        if objective_id in cache:
            return cache[objective_id]
        stack: list[tuple[str, bool]] = [(objective_id, False)]
        while stack:
            node, expanded = stack.pop()
            if node in cache:
                continue
            o = self._nodes[node]
            if o.is_key_result:
                assert o.baseline is not None
                assert o.target is not None
                cache[node] = baseline_progress(o.baseline, o.target, o.current)
                continue
            if not expanded:
                stack.append((node, True))
                stack.extend((c, False) for c in self._children[node] if c not in cache)
                continue
            counted, _ = self._split_children(node, cache)
            if not counted:
                cache[node] = None
                continue
            total_w = sum((w for _, w, _ in counted), Fraction(0))
            cache[node] = sum((w * p for _, w, p in counted), Fraction(0)) / total_w
        return cache[objective_id]

    def _invalidate(self, objective_id: str | None) -> None:
        cur = objective_id
        while cur is not None and cur in self._nodes:
            self._cache.pop(cur, None)
            cur = self._nodes[cur].parent_id

    def _chain_progress(self, ids: Iterable[str]) -> dict[str, Decimal | None]:
        out: dict[str, Decimal | None] = {}
        for i in ids:
            if i in self._nodes and i not in out:
                out[i] = self.progress(i)
        return out

    # -- changes -------------------------------------------------------------------------
    def add(self, objective: Objective) -> dict[str, Decimal | None]:
        """Add a new objective under its ``parent_id`` (or as a root).

        Returns the recomputed progress of its ancestors.

        Raises:
            Conflict: the id is taken. NotFound: unknown parent.
            InvalidValue: the parent is a key result (key results cannot have children).
        """
        if objective.id in self._nodes:
            raise Conflict(
                f"objective id {objective.id!r} already exists",
                field=f"{_here(objective.id)}.id",
                valid="an unused id",
            )
        if objective.parent_id is not None:
            if objective.parent_id not in self._nodes:
                raise _unknown_parent(objective.id, objective.parent_id, self._nodes)
            _check_can_have_children(self._nodes[objective.parent_id], objective.id)
        self._put(objective)
        try:
            return self._chain_progress(self.ancestors(objective.id))
        except DomainError:
            self._delete(objective.id)
            raise

    def replace(self, objective: Objective) -> dict[str, Decimal | None]:
        """Replace an existing objective by a changed copy (same id).

        A changed ``parent_id`` is handled as :meth:`reparent`. Returns the recomputed progress
        of the old and new ancestors.

        Raises:
            NotFound, CycleError, InvalidValue: as for :meth:`reparent` and :meth:`add`.
        """
        old = self.get(objective.id)
        if objective.is_key_result and self._children[objective.id]:
            raise InvalidValue(
                f"{objective.id!r} has children and cannot become a key result",
                field=f"{_here(objective.id)}.target",
                valid="no target on an objective with children",
            )
        affected = self.ancestors(objective.id)
        if objective.parent_id != old.parent_id:
            self._check_move(objective.id, objective.parent_id)
        self._put(objective)
        try:
            return self._chain_progress([*affected, *self.ancestors(objective.id)])
        except DomainError:
            self._put(old)
            raise

    def reparent(self, objective_id: str, new_parent_id: str | None) -> dict[str, Decimal | None]:
        """Move an objective (with its subtree) under ``new_parent_id`` (None = make it a root).

        The parent may belong to another owner (alignment). Returns the recomputed progress of
        the old ancestors followed by the new ones.

        Raises:
            NotFound: unknown objective or parent.
            CycleError: the new parent is the objective itself or one of its descendants;
                ``path`` reads child -> parent -> ... -> child.
            InvalidValue: the new parent is a key result.
        """
        return self.replace(evolve(self.get(objective_id), parent_id=new_parent_id))

    def remove(self, objective_id: str) -> dict[str, Decimal | None]:
        """Delete an objective that has no children; returns its former ancestors' progress.

        Raises:
            NotFound: unknown id.
            InvalidValue: the objective still has children (move or remove them first).
        """
        self.get(objective_id)
        if self._children[objective_id]:
            raise InvalidValue(
                f"{objective_id!r} still has children: "
                + ", ".join(sorted(self._children[objective_id])),
                field=_here(objective_id),
                valid="an objective without children (re-parent or remove them first)",
            )
        affected = self.ancestors(objective_id)
        old = self._nodes[objective_id]
        self._delete(objective_id)
        try:
            return self._chain_progress(affected)
        except DomainError:
            self._put(old)
            raise

    def set_current(self, objective_id: str, current: object) -> dict[str, Decimal | None]:
        """Record a key result's new current value; returns its ancestors' progress.

        Raises:
            InvalidValue: not a key result, or not a number (``objectives[<id>].current``).
        """
        o = self.get(objective_id)
        if not o.is_key_result:
            raise InvalidValue(
                f"{objective_id!r} is not a key result; its progress comes from its children",
                field=f"{_here(objective_id)}.current",
                valid="a key result (an objective with a target)",
            )
        value = _number(current, f"{_here(objective_id)}.current")
        return self.replace(evolve(o, current=value))

    def set_weight(self, objective_id: str, weight: object) -> dict[str, Decimal | None]:
        """Change one objective's explicit weight.

        Raises:
            InvalidWeight: negative or not a number (``objectives[<id>].weight``).
        """
        return self.replace(evolve(self.get(objective_id), weight=_weight(weight, objective_id)))

    def set_weights(self, weights: Mapping[str, object]) -> dict[str, Decimal | None]:
        """Change several weights at once (all-or-nothing); returns affected ancestors.

        Raises:
            NotFound: an unknown id. InvalidWeight: a negative weight (nothing is changed).
        """
        updated = [evolve(self.get(i), weight=_weight(w, i)) for i, w in sorted(weights.items())]
        olds = [self._nodes[o.id] for o in updated]
        affected: list[str] = []
        for o in updated:
            self._put(o)
            affected.extend(self.ancestors(o.id))
        try:
            return self._chain_progress(affected)
        except DomainError:
            for o in olds:
                self._put(o)
            raise

    def transition(self, objective_id: str, to: ObjectiveState | str) -> dict[str, Decimal | None]:
        """Change an objective's state (archiving removes it from its parent's roll-up).

        Raises:
            InvalidTransition: not allowed from the current state.
        """
        return self.replace(self.get(objective_id).transition(to))

    # -- helpers -------------------------------------------------------------------------
    def _put(self, objective: Objective) -> None:
        """Store ``objective`` (new or changed), moving it between parents' child sets."""
        prev = self._nodes.get(objective.id)
        if prev is not None:
            self._invalidate(objective.id)
            if prev.parent_id != objective.parent_id:
                self._detach(objective.id)
        self._nodes[objective.id] = objective
        self._invalidate(objective.id)
        self._children.setdefault(objective.id, {})
        if objective.parent_id is not None:
            self._children[objective.parent_id][objective.id] = None

    def _delete(self, objective_id: str) -> None:
        self._invalidate(objective_id)
        self._cache.pop(objective_id, None)
        self._detach(objective_id)
        del self._nodes[objective_id]
        del self._children[objective_id]

    def _detach(self, objective_id: str) -> None:
        parent = self._nodes[objective_id].parent_id
        if parent is not None:
            self._children[parent].pop(objective_id, None)

    def _check_move(self, objective_id: str, new_parent_id: str | None) -> None:
        if new_parent_id is None:
            return
        if new_parent_id not in self._nodes:
            raise _unknown_parent(objective_id, new_parent_id, self._nodes)
        chain = [new_parent_id, *self.ancestors(new_parent_id)]
        if objective_id in chain:
            loop = [objective_id, *chain[: chain.index(objective_id) + 1]]
            raise CycleError(
                f"moving {objective_id!r} under {new_parent_id!r} would make a cycle: "
                + " -> ".join(loop),
                field=f"{_here(objective_id)}.parent_id",
                path=loop,
            )
        _check_can_have_children(self._nodes[new_parent_id], objective_id)


def _some_ids(nodes: Mapping[str, object]) -> str:
    ids = sorted(nodes)
    shown = ", ".join(ids[:10])
    return (shown + (f" ... ({len(ids)} in all)" if len(ids) > 10 else "")) or "no objectives yet"


def _unknown_parent(child: str, parent: str, nodes: Mapping[str, object]) -> NotFound:
    return NotFound(
        f"parent objective {parent!r} does not exist",
        field=f"{_here(child)}.parent_id",
        valid=_some_ids(nodes),
    )


def _check_can_have_children(parent: Objective, child_id: str) -> None:
    if parent.is_key_result:
        raise InvalidValue(
            f"{parent.id!r} is a key result and cannot have children (tried {child_id!r})",
            field=f"{_here(child_id)}.parent_id",
            valid="a group objective (one without a target)",
        )


def _number(value: object, path: str) -> Decimal:
    return as_decimal(value, field=path)


def _weight(value: object, objective_id: str) -> Decimal:
    return as_weight(value, field=f"{_here(objective_id)}.weight")

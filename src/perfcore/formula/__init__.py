"""perfcore's formula language: safe, typed, and the same on every back end.

Formulas are written by HR partners and plant managers and are treated as untrusted input. They
are checked against a declared schema when defined and compiled to a canonical IR, which the
Python back end (here), the SQL back end (``perfcore_adapters.sqlalchemy.formula_sql``) and the
polars back end (``perfcore_adapters.vectorised``) execute with identical semantics.

>>> f = compile("good_qty / inspected_qty", {"good_qty": "number", "inspected_qty": "number"})
>>> f.result_type.value, sorted(f.names)
('number', ['good_qty', 'inspected_qty'])
>>> f.evaluate({"good_qty": 49, "inspected_qty": 50})
Decimal('0.98')
>>> f.evaluate({"good_qty": 0, "inspected_qty": 0}) is None
True

See docs/formula.md for the language reference.
"""

from perfcore.formula.checker import FUNCTIONS
from perfcore.formula.compiled import CompiledFormula, compile, from_ir
from perfcore.formula.errors import ERROR_CODES, FormulaError
from perfcore.formula.ir import Node
from perfcore.formula.limits import MAX_DEPTH, MAX_LENGTH, MAX_NODES, MAX_TREE_DEPTH
from perfcore.formula.types import FieldType, normalise_schema

__all__ = [
    "ERROR_CODES",
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "MAX_NODES",
    "MAX_TREE_DEPTH",
    "CompiledFormula",
    "FieldType",
    "FormulaError",
    "Node",
    "compile",
    "from_ir",
    "normalise_schema",
]

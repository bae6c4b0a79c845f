"""Bounded numbers for request parameters and bodies.

Versions, sequence numbers and row ids are INTEGER columns (32-bit in PostgreSQL). An unbounded
``int`` parameter let a request carry 2**63 to the database driver, which answered with an
overflow (a 500); these types answer such a number with a 422 problem before any query runs.
"""

from __future__ import annotations

from typing import Annotated

import annotated_types as at

INT32_MAX = 2**31 - 1

PositiveInt = Annotated[int, at.Ge(1), at.Le(INT32_MAX)]
"""A positive whole number that fits an INTEGER column: a version, a sequence number, a row id."""

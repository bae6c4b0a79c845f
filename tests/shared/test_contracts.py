"""Each service's declared ``PUBLISHES`` (its ``events`` module) is exactly what its code publishes.

What the code publishes is read from its source: every event class of ``shared.contracts`` the
service constructs (``X(...)``, ``contracts.X(...)``, or a name bound to such classes and then
called, as in ``evt_cls = Approved if ok else Rejected; evt_cls(...)``). Names are resolved in the
imported module, so an alias or a module import counts the same as a direct import.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from odr.services import SERVICES, events_module
from shared import contracts  # noqa: F401  (registers every event)
from shared.events import Event

ROOT = Path(__file__).resolve().parents[2]


def _event_class(value) -> type[Event] | None:
    if inspect.isclass(value) and issubclass(value, Event) and value.__module__.startswith("shared.contracts."):
        return value
    return None


def _resolve(module, node: ast.expr):
    """The object an expression of names and attributes denotes in ``module``, or None."""
    if isinstance(node, ast.Name):
        return getattr(module, node.id, None)
    if isinstance(node, ast.Attribute):
        base = _resolve(module, node.value)
        return getattr(base, node.attr, None) if base is not None else None
    return None


def _constructed(module, tree: ast.AST) -> set[type[Event]]:
    bound: dict[str, set[type[Event]]] = {}  # local names bound to event classes
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            classes = {c for sub in ast.walk(node.value) if (c := _event_class(_resolve(module, sub)))}
            for target in node.targets:
                if isinstance(target, ast.Name) and classes:
                    bound.setdefault(target.id, set()).update(classes)
    found: set[type[Event]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if cls := _event_class(_resolve(module, node.func)):
                found.add(cls)
            elif isinstance(node.func, ast.Name) and node.func.id in bound and _resolve(module, node.func) is None:
                found |= bound[node.func.id]
    return found


def published_by(service: str) -> set[type[Event]]:
    found: set[type[Event]] = set()
    for path in sorted((ROOT / "services" / service).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        module = importlib.import_module(name)
        found |= _constructed(module, ast.parse(path.read_text(), str(path)))
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_a_service_declares_exactly_what_it_publishes(service):
    declared = events_module(service).PUBLISHES
    assert len(declared) == len(set(declared)), "PUBLISHES lists an event twice"
    assert sorted(c.type for c in declared) == sorted(c.type for c in published_by(service))


def test_every_event_has_one_publisher():
    publishers: dict[str, list[str]] = {}
    for service in SERVICES:
        for cls in events_module(service).PUBLISHES:
            publishers.setdefault(cls.type, []).append(service)
            assert cls.topic == f"odr.{service}", f"{service} publishes {cls.type} on another service's topic"
    from shared.events import registry

    contract_types = {c.type for c in registry.all() if _event_class(c)}
    assert {t: p for t, p in publishers.items() if len(p) > 1} == {}
    assert sorted(contract_types - set(publishers)) == []


def test_the_finder_sees_a_bound_class_called_later():
    module = importlib.import_module("services.agreements.court")
    source = "def f(ok):\n    evt_cls = AgreementApproved if ok else AgreementRejected\n    return evt_cls(case_id='c')\n"
    assert {c.__name__ for c in _constructed(module, ast.parse(source))} == {"AgreementApproved", "AgreementRejected"}

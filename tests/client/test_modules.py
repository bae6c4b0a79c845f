"""The client's layout, read from its files (no browser): the services' paths are named only in
``assets/js/api/`` (one module a service), and main.js is imported by nobody: it declares the
routes and starts router.js, the views import ``navigate`` from router.js, and router.js knows no
view. So the paths cannot spread through the views again, nor the views import the module that
imports them."""

from __future__ import annotations

import re
from pathlib import Path

JS = Path(__file__).resolve().parents[2] / "client" / "assets" / "js"
API = JS / "api"
SERVICES = ("intake", "sessions", "agreements", "notifications")
# A path of a service: /intake/..., /agreements?..., as a whole path, not a segment of a page of
# the client's own such as /cases/<id>/agreements/<id> or /cases/${caseId}/sessions/<id>.
API_PATH = re.compile(r"/(?:" + "|".join(SERVICES) + r")[/?]")
PAGE_ROUTE = re.compile(r"/cases/[^/\s]+/(?:agreements|sessions)/")
IMPORT = re.compile(r"""\bimport\s*(?:[\w*{}\s,]+?\s*from\s*)?\(?\s*["']([^"']+)["']""")


def _modules() -> list[Path]:
    return sorted(JS.rglob("*.js"))


def _imports(module: Path) -> set[Path]:
    """The modules ``module`` imports (static or dynamic), resolved to files."""
    return {(module.parent / spec).resolve() for spec in IMPORT.findall(module.read_text()) if spec.startswith(".")}


def _name(module: Path) -> str:
    return module.relative_to(JS).as_posix()


def test_the_layout_is_what_these_tests_expect():
    names = {_name(m) for m in _modules()}
    assert {"main.js", "router.js", "api/http.js", *(f"api/{s}.js" for s in SERVICES)} <= names
    assert any(n.startswith("views/") for n in names)
    assert "api.js" not in names, "the HTTP helpers live in api/http.js"
    assert _imports(JS / "main.js"), "the import pattern reads no import of main.js"


def test_no_service_path_outside_the_api_modules():
    found = []
    for module in _modules():
        if API in module.parents:
            continue
        for number, line in enumerate(module.read_text().splitlines(), 1):
            if API_PATH.search(PAGE_ROUTE.sub("", line)):
                found.append(f"{_name(module)}:{number}: {line.strip()}")
    assert not found, "name the path in client/assets/js/api/<service>.js:\n" + "\n".join(found)


def test_every_api_module_names_its_own_service_only():
    for service in SERVICES:
        text = (API / f"{service}.js").read_text()
        named = {m.group(0)[1:-1] for m in API_PATH.finditer(text)}
        assert named == {service}, (service, named)


def test_main_js_is_imported_by_no_module():
    main = (JS / "main.js").resolve()
    importers = [_name(m) for m in _modules() if main in _imports(m)]
    assert not importers, f"views import navigate from router.js, not main.js: {importers}"


def test_what_main_js_imports_never_leads_back_to_it():
    main = (JS / "main.js").resolve()
    seen: set[Path] = set()
    todo = list(_imports(main))
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        assert module.exists(), f"an import names a missing file: {module}"
        assert module != main, "an import cycle leads back to main.js"
        todo.extend(_imports(module))
    assert (JS / "router.js").resolve() in seen and any(JS / "views" in m.parents for m in seen)


def test_the_router_imports_no_view():
    views = JS / "views"
    assert not [m for m in _imports(JS / "router.js") if views in m.parents]

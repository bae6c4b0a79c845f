"""Print the README's configuration table from ``shared.config.Settings``.

    uv run python scripts/config_table.py            print the Markdown table
    uv run python scripts/config_table.py --write    replace the table in README.md
    uv run python scripts/config_table.py --check    exit 1 if README.md's table is out of date

The table sits in README.md between ``<!-- config-table:begin -->`` and
``<!-- config-table:end -->``. One row per ``Settings`` field: its environment variable
(``ODR_`` + the field name upper-cased), the accepted values, the default and the field's
description.
"""

from __future__ import annotations

import argparse
import enum
import sys
import types
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from shared.config import Settings  # noqa: E402

README = ROOT / "README.md"
BEGIN, END = "<!-- config-table:begin -->", "<!-- config-table:end -->"


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return " \\| ".join(f"`{v}`" for v in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return " \\| ".join(_type_name(a) for a in args)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    names = {bool: "boolean", int: "integer", float: "number", str: "string", Path: "path"}
    return names.get(annotation, getattr(annotation, "__name__", str(annotation)))


def _default(field) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, enum.Enum):
        value = value.value
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table() -> str:
    prefix = Settings.model_config.get("env_prefix", "")
    rows = ["| Variable | Values | Default | Description |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        env = (field.alias or f"{prefix}{name}").upper()
        rows.append(f"| `{env}` | {_type_name(field.annotation)} | {_default(field)} | {_cell(field.description or '')} |")
    return "\n".join(rows) + "\n"


def _spliced(readme: str) -> str:
    try:
        head, rest = readme.split(BEGIN, 1)
        _, tail = rest.split(END, 1)
    except ValueError:
        raise SystemExit(f"{README} has no {BEGIN} ... {END} block") from None
    return f"{head}{BEGIN}\n{table()}{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--write", action="store_true", help="replace the table in README.md")
    group.add_argument("--check", action="store_true", help="fail if README.md's table is out of date")
    args = parser.parse_args()
    if not (args.write or args.check):
        sys.stdout.write(table())
        return 0
    current = README.read_text()
    wanted = _spliced(current)
    if args.check:
        if current != wanted:
            print("README.md's configuration table is out of date: uv run python scripts/config_table.py --write",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main())

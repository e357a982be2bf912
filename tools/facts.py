"""Facts the tools share with the kernel, read from the one Rust file that
defines each, so that a change there reaches the tools too.

Only simple forms are understood, and anything else is an error, not a guess:
  pub const NAME: TYPE = VALUE;       (a string literal or an integer)
  pub enum ENUM { VARIANT = INTEGER, ... }
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class FactMissing(Exception):
    """A fact the tools need is not where they look for it."""


def _source(path):
    try:
        return (ROOT / path).read_text()
    except OSError as err:
        raise FactMissing(f"{path}: {err.strerror}") from None


def _value(text, where):
    text = text.strip()
    string = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', text)
    if string:
        return string.group(1).encode().decode("unicode_escape")
    number = re.fullmatch(r"(0x[0-9a-fA-F_]+|0b[01_]+|[0-9_]+)(?:u8|u16|u32|u64|usize)?", text)
    if number:
        return int(number.group(1).replace("_", ""), 0)
    raise FactMissing(f"{where}: value {text!r} is neither a string literal nor an integer")


def rust_const(path, name):
    """The value of `pub const NAME: T = VALUE;` in the Rust file `path`
    (relative to the repository)."""
    pattern = re.compile(rf"^\s*pub const {re.escape(name)}: [^=]+=\s*(.+?);\s*$", re.M)
    found = pattern.findall(_source(path))
    if len(found) != 1:
        raise FactMissing(f"{path}: expected one `pub const {name}: ... = ...;`, found {len(found)}")
    return _value(found[0], f"{path}: {name}")


def rust_enum_value(path, enum, variant):
    """The integer of `VARIANT = INTEGER,` inside `pub enum ENUM { ... }`."""
    body = re.search(rf"pub enum {re.escape(enum)}\s*\{{(.*?)\n\}}", _source(path), re.S)
    if not body:
        raise FactMissing(f"{path}: no `pub enum {enum}`")
    value = re.search(rf"^\s*{re.escape(variant)}\s*=\s*([^,\n]+),?\s*$", body.group(1), re.M)
    if not value:
        raise FactMissing(f"{path}: `{enum}` has no `{variant} = ...` variant")
    result = _value(value.group(1), f"{path}: {enum}::{variant}")
    if not isinstance(result, int):
        raise FactMissing(f"{path}: {enum}::{variant} is not an integer")
    return result

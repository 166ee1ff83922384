"""States are enums (DESIGN.md): no bare state, kind, role, relay-mode or channel string
outside shopmail/core/states.py.

The rule walks the code (ast) and knows the values from the enums themselves. A string equal to
one of a field's values is flagged where it is used as that field: compared with it (==, !=,
in), assigned to it (`row.state = …`, `values["state"] = …`, `state: str = …`), passed as it
(`state=…` in any call — filter_by, values, a constructor — a parameter default, a
`{"state": …}` key), given to `in_()` on it, or handed to a function whose name says it takes
one (`_require_state(b, …)`). A name "says" a field when one of its words is the field or its
plural: `Message.kind`, `MANUAL_KINDS`, `OPEN_STATES`, `mailing_state`, `row["state"]`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopmail.core import states

ROOT = Path(__file__).resolve().parents[2] / "shopmail"
ENUM_MODULE = ROOT / "core" / "states.py"

STATE_ENUMS = [
    value
    for value in vars(states).values()
    if isinstance(value, type)
    and issubclass(value, states.StrEnum)
    and value.__name__.endswith("State")
]
FIELDS: dict[str, frozenset[str]] = {
    "state": frozenset(member.value for enum in STATE_ENUMS for member in enum),
    "kind": frozenset(states.MessageKind),
    "role": frozenset(states.Role),
    "relay_mode": frozenset(states.RelayMode),
    "channel": frozenset(states.Channel),
}


def field_of_name(name: str | None) -> str | None:
    """The field a name speaks of: `state`, `OPEN_STATES`, `mailing_state`, `relay_modes`."""
    if not name:
        return None
    words = name.lower().strip("_").split("_")
    for field in FIELDS:
        size = field.count("_") + 1
        for i in range(len(words) - size + 1):
            if "_".join(words[i : i + size]) in (field, field + "s"):
                return field
    return None


def field_of(node: ast.AST) -> str | None:
    """The field an expression is: a name, an attribute, `row["state"]`, `row.get("state")`."""
    if isinstance(node, ast.Name):
        return field_of_name(node.id)
    if isinstance(node, ast.Attribute):
        if node.attr == "data":  # a form field's value: form.relay_mode.data
            return field_of(node.value)
        return field_of_name(node.attr)
    if isinstance(node, ast.Subscript):
        key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            return field_of_name(key.value)
    call = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    if call and node.func.attr == "get" and node.args:
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return field_of_name(first.value)
    return None


def call_name(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def bare_strings(node: ast.AST | None) -> Iterator[ast.Constant]:
    """The string literals an expression may evaluate to (or hold, for a tuple of states)."""
    if node is None:
        return
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.Tuple | ast.List | ast.Set):
        for element in node.elts:
            yield from bare_strings(element)
    elif isinstance(node, ast.Starred):
        yield from bare_strings(node.value)
    elif isinstance(node, ast.IfExp):
        yield from bare_strings(node.body)
        yield from bare_strings(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from bare_strings(value)
    elif isinstance(node, ast.BinOp):  # DUE_STATES + ("sending",)
        yield from bare_strings(node.left)
        yield from bare_strings(node.right)
    elif isinstance(node, ast.Call) and call_name(node) in ("tuple", "frozenset", "set", "list"):
        for arg in node.args:
            yield from bare_strings(arg)


class Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str, str]] = []

    def check(self, field: str | None, value: ast.AST | None) -> None:
        if field is None:
            return
        for constant in bare_strings(value):
            if constant.value in FIELDS[field]:
                self.found.append((constant.lineno, constant.value, field))

    def visit_Compare(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        for operand in operands:
            field = field_of(operand)
            for other in operands:
                if other is not operand:
                    self.check(field, other)
        self.generic_visit(node)

    def _assign(self, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Tuple | ast.List) and isinstance(value, ast.Tuple | ast.List):
            for t, v in zip(target.elts, value.elts, strict=False):
                self._assign(t, v)
        else:
            self.check(field_of(target), value)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._assign(target, node.value)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._assign(node.target, node.value)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._assign(node.target, node.value)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            self.check(field_of_name(keyword.arg), keyword.value)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("in_", "not_in", "notin_"):
            for arg in node.args:
                self.check(field_of(func.value), arg)
        elif field_of_name(call_name(node)) and call_name(node) not in ("get",):
            for arg in node.args:
                self.check(field_of_name(call_name(node)), arg)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self.check(field_of_name(key.value), value)
        self.generic_visit(node)

    def _defaults(self, args: ast.arguments) -> None:
        positional = args.posonlyargs + args.args
        defaulted = positional[len(positional) - len(args.defaults) :]
        for arg, default in zip(defaulted, args.defaults, strict=True):
            self.check(field_of_name(arg.arg), default)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            self.check(field_of_name(arg.arg), default)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._defaults(node.args)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._defaults(node.args)
        self.generic_visit(node)


def bare_values(source: str) -> list[tuple[int, str, str]]:
    finder = Finder()
    finder.visit(ast.parse(source))
    return finder.found


def test_the_enums_give_the_rule_its_values():
    assert "queued" in FIELDS["state"] and "draft" in FIELDS["state"]
    assert "admin_copy" in FIELDS["kind"] and "rakuten" in FIELDS["relay_mode"]


@pytest.mark.parametrize(
    "source",
    [
        'Message.state == "queued"',
        '"held" != row.state',
        'if kind in ("record", "broadcast"): pass',
        'select(Message).filter_by(state="sent")',
        'update(Message).values(state="deleted")',
        'Message.state.in_(("failed", "unknown"))',
        'Message.state.in_(DUE_STATES + ("sending",))',
        'mailing.state = "done"',
        'broadcast.state, broadcast.total = "sending", 3',
        'values["state"] = "unknown"',
        'row = {"kind": "test", "to": "a@example.jp"}',
        'OPEN_STATES = ("queued", "sending")',
        'MANUAL_KINDS = ("record",)',
        'def make(role: str = "staff"): pass',
        'x = "held" if late else "queued"\nrow["state"] = "held" if late else "queued"',
        'if store.relay_mode == "rakuten": pass',
        'if channel != "own": pass',
        'if form.relay_mode.data != "own": pass',
        '_require_state(broadcast, "draft")',
        'class Settings:\n    channel: str = "own"',
    ],
)
def test_the_rule_sees_a_bare_value(source):
    assert bare_values(source), source


@pytest.mark.parametrize(
    "source",
    [
        "Message.state == MessageState.QUEUED",
        'audit.record("system", "store.paused", store)',
        'tags.check(text, "record")',
        'actor = "system"',
        'order.status == "cancelled"',
        'job.get_status() in ("queued", "scheduled")',
        'payment_kind == "card"',
    ],
)
def test_the_rule_lets_other_strings_be(source):
    assert not bare_values(source), source


def test_no_bare_state_strings_outside_the_enum_module():
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if path == ENUM_MODULE:
            continue
        for line, value, field in bare_values(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(ROOT.parent)}:{line}: {value!r} as a {field}")
    assert not found, "use the enums of shopmail/core/states.py:\n" + "\n".join(found)

"""Every action the desk records in the audit trail has a name staff can read."""

import ast
import itertools
import re
from pathlib import Path

from shopmail.people.audit_views import ACTION_LABELS

ACTION = re.compile(r"[a-z_]+(\.[a-z_]+)+")
ROOT = Path(__file__).resolve().parents[2]
# Actions whose names are built at run time, spelled out.
DYNAMIC = {
    "desk.{name}_{on}": [
        f"desk.{n}_{o}" for n, o in itertools.product(("auto_create", "auto_send"), ("on", "off"))
    ],
    "kind.{x}": ["kind.enabled", "kind.disabled"],
    "import.{kind}": ["import.orders", "import.members"],
    "api.{kind}.upserted": [
        f"api.{k}.upserted" for k in ("orders", "shipments", "quotes", "members")
    ],
}


def test_every_audited_action_has_a_label():
    expected = {a for names in DYNAMIC.values() for a in names}
    for path in (ROOT / "shopmail").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for call in ast.walk(tree):
            if (
                isinstance(call, ast.Call)
                and isinstance(call.func, ast.Attribute)
                and call.func.attr == "record"
                and isinstance(call.func.value, ast.Name)
                and call.func.value.id == "audit"
                and len(call.args) >= 2
            ):
                action = call.args[1]
                expected |= {
                    n.value
                    for n in ast.walk(action)
                    if isinstance(n, ast.Constant)
                    and isinstance(n.value, str)
                    and ACTION.fullmatch(n.value)  # not the pieces of an f-string
                }
    assert len(expected) > 40
    missing = sorted(expected - set(ACTION_LABELS))
    assert not missing, f"audit actions without a label: {missing}"

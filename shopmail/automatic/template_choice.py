"""Why an automatic mail gets its template: the one choice creation and the preview make.

`choose` reads what the order asks for (PC or mobile by the buyer's address domain; stage 1
or 2 by the purchase count against the store's threshold; the carrier of the shipment), lets
the resolver pick the template (templates.candidates: store before common default, the
carrier's before the generic notice, stage 2 falling back to stage 1) and returns it with the
facts that decided it. Creation keeps the facts on the outbox row, so the queue, the history
and the mail page say what decided it then, not what today's settings would decide.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _

from shopmail.automatic import templates
from shopmail.automatic.templates import Compiled, Resolver
from shopmail.core.states import MessageKind
from shopmail.mail.addresses import device_of


@dataclass(frozen=True)
class Choice:
    compiled: Compiled | None  # None: no template for what the order asks for
    device: str
    variant: str  # what the order asks for (the stage, the carrier, or "")
    key: tuple | None  # the winning template's (scope, kind, device, variant)
    why: dict[str, Any]  # the facts, JSON-ready: kept on the row, said by `describe`


def choose(
    resolver: Resolver, kind: str, store, order, shipment, fixed: Mapping[str, str]
) -> Choice:
    """The template `order` of `store` gets for a mail of `kind`, and why."""
    address = (order.buyer_email or "").strip()
    device = device_of(address)
    why: dict[str, Any] = {
        "kind": str(kind),
        "store": store.name,
        "device": device,
        "domain": address.rpartition("@")[2].lower(),
    }
    if kind == MessageKind.ORDER_CONFIRMATION:
        variant = templates.stage_for(order.purchase_count, store.repeat_from_count)
        why |= {
            "stage": variant,
            "purchases": order.purchase_count,
            "repeat_from": store.repeat_from_count,
        }
    elif kind == MessageKind.SHIPPING_NOTICE:
        variant = (shipment.carrier if shipment else "") or order.delivery_method or ""
        why["carrier"] = variant
    else:
        variant = ""
    compiled, row = resolver.resolved(store.id, kind, device, variant, fixed)
    key = None
    if row is not None:
        key = (row.scope, str(row.kind), row.device, row.variant)
        why |= {"source": resolver.origin(row), "variant": row.variant}
    return Choice(compiled, device, variant, key, why)


def describe(why: Mapping[str, Any] | None) -> str:
    """The explanation in the reader's language, e.g. 「店舗別テンプレート(本店)・モバイル
    (docomo.ne.jp)・2回目以降(購入3回 ≥ 基準2回)・ヤマト運輸用」; "" when nothing was kept."""
    if not why or "source" not in why:
        return ""
    return _(" · ").join(_parts(why))


def _parts(why: Mapping[str, Any]) -> list[str]:
    source = why["source"]
    if source == "store":
        parts = [_("Store template (%(store)s)", store=why.get("store", ""))]
    elif source == "default":
        parts = [_("Common default")]
    else:
        parts = [_("Shipped default (never edited)")]
    domain = why.get("domain") or "-"
    if why.get("device") == "mobile":
        parts.append(_("Mobile (%(domain)s)", domain=domain))
    else:
        parts.append(_("PC (%(domain)s)", domain=domain))
    if "stage" in why:
        parts.append(_stage(why))
    if "carrier" in why:
        parts.append(_carrier(why))
    return parts


def _stage(why: Mapping[str, Any]) -> str:
    purchases, threshold = why.get("purchases", 0), why.get("repeat_from", 0)
    if threshold <= 0:
        said = _("Stage 1 (no repeat-customer stage set)")
    elif why["stage"] == "2":
        said = _("Stage 2 (%(n)s purchases ≥ threshold %(t)s)", n=purchases, t=threshold)
    else:
        said = _("Stage 1 (%(n)s purchases < threshold %(t)s)", n=purchases, t=threshold)
    if why["stage"] == "2" and why.get("variant") == "1":
        said += _(" → no stage 2 template: the stage 1 one")
    return said


def _carrier(why: Mapping[str, Any]) -> str:
    carrier = why.get("carrier") or ""
    if carrier and why.get("variant") == carrier:
        return _("For %(carrier)s", carrier=carrier)
    if carrier:
        return _("Generic notice (none for %(carrier)s)", carrier=carrier)
    return _("Generic notice (no delivery method)")

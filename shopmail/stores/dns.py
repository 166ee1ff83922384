"""The DNS records a store's mail needs for Gmail's and Yahoo's sender rules (DKIM, SPF, DMARC).

Read only: what the store page shows. DKIM is the desk's to give (its key for the From domain);
SPF belongs to the envelope sender's domain, which with bounce addresses is the desk's bounce
domain, and names the relay's servers — which only the relay's provider knows, so the page
shows the relay's host and a placeholder, never a guess; DMARC is the From domain's policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from shopmail.core import dkim_keys, sending, verp
from shopmail.core.states import RelayMode
from shopmail.mail import signing
from shopmail.models import DkimKey, Store

SPF_PLACEHOLDER = "<SPF domain of your relay>"


@dataclass(frozen=True)
class DkimRecord:
    selector: str
    signs: bool
    usable: bool  # decrypts with the configured secret keys
    name: str  # selector._domainkey.domain
    value: str  # what the TXT record holds
    record: str  # the zone-file line
    created_at: datetime
    retired_at: datetime | None


@dataclass(frozen=True)
class DnsGuide:
    domain: str | None  # the From domain; None without a usable From address
    rakuten: bool  # the mall's relay handles it: the desk does not sign
    keys: list[DkimRecord]  # the signing key first, then retired ones still published
    envelope_domain: str | None
    relay_host: str | None
    spf: str
    dmarc: str

    @property
    def signing(self) -> DkimRecord | None:
        return next((k for k in self.keys if k.signs), None)


def guide_for(store: Store) -> DnsGuide:
    domain = dkim_keys.domain_of(store.from_addr)
    rakuten = store.relay_mode == RelayMode.RAKUTEN
    if rakuten or domain is None:
        return DnsGuide(domain, rakuten, [], None, None, "", "")
    envelope = verp.bounce_domain()
    return DnsGuide(
        domain=domain,
        rakuten=False,
        keys=[_record(key) for key in dkim_keys.keys_for(domain)],
        envelope_domain=envelope,
        relay_host=_relay_host(store),
        spf=f'{envelope}. IN TXT "v=spf1 include:{SPF_PLACEHOLDER} ~all"',
        dmarc=f'_dmarc.{domain}. IN TXT "v=DMARC1; p=none; rua=mailto:dmarc-reports@{domain}"',
    )


def _record(key: DkimKey) -> DkimRecord:
    return DkimRecord(
        selector=key.selector,
        signs=key.retired_at is None,
        usable=dkim_keys.usable(key),
        name=f"{key.selector}._domainkey.{key.domain}",
        value=signing.txt_value(key.public_key),
        record=dkim_keys.record_of(key),
        created_at=key.created_at,
        retired_at=key.retired_at,
    )


def _relay_host(store: Store) -> str | None:
    if store.relay_mode == RelayMode.OWN:
        return store.smtp_host or None
    try:
        return sending.relay_from_url(current_app.config["SHOPMAIL_SMTP_URL"]).host
    except (KeyError, ValueError):
        return None

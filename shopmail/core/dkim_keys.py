"""DKIM keys: create, rotate and remove a domain's keys; the signer of a store's mail.

A domain's newest key signs (`retired_at` empty); creating another selector retires the one
before, which is kept — its record still shown — until removed, so mail already signed with
it still verifies. Private keys are encrypted at rest with `core.crypto`, like relay passwords,
and parsed once per process (`_signer`): the send loop asks for a store's signer once per
chunk, which costs one indexed query.
"""

from __future__ import annotations

import functools
import logging

from shopmail.core import audit, crypto
from shopmail.core.i18n import TOKYO
from shopmail.core.states import RelayMode
from shopmail.extensions import db
from shopmail.mail import signing
from shopmail.mail.addresses import AddressError, parse_address
from shopmail.mail.signing import Signer
from shopmail.models import DkimKey, Store, User
from shopmail.models.types import utcnow

SELECTOR_PREFIX = "sm"  # default selectors: sm + the Tokyo month, e.g. sm202612

log = logging.getLogger(__name__)


class DkimKeyError(ValueError):
    """A key that cannot be created or removed as asked; the message says why."""


def domain_of(addr: str) -> str | None:
    """The DNS name of an address's domain, or None when there is no usable address."""
    try:
        return signing.dns_name(parse_address(addr).domain)
    except (AddressError, ValueError):
        return None


def keys_for(domain: str) -> list[DkimKey]:
    """A domain's keys, the signing one first, then the retired ones, newest first."""
    query = (
        db.select(DkimKey)
        .filter_by(domain=_dns_name(domain))
        .order_by(DkimKey.retired_at.is_not(None), DkimKey.id.desc())
    )
    return list(db.session.scalars(query))


def signing_key(domain: str) -> DkimKey | None:
    query = (
        db.select(DkimKey)
        .filter_by(domain=domain, retired_at=None)
        .order_by(DkimKey.id.desc())
        .limit(1)
    )
    return db.session.scalar(query)


def record_of(key: DkimKey) -> str:
    """The TXT record to publish for a key, as one zone-file line."""
    return signing.txt_record(key.selector, key.domain, key.public_key)


def default_selector(domain: str) -> str:
    """sm + the Tokyo month; a second key in the same month gets b, c, …"""
    base = SELECTOR_PREFIX + utcnow().astimezone(TOKYO).strftime("%Y%m")
    taken = set(db.session.scalars(db.select(DkimKey.selector).filter_by(domain=domain)))
    for suffix in ("", *"bcdefghijklmnopqrstuvwxyz"):
        if base + suffix not in taken:
            return base + suffix
    raise DkimKeyError(f"every default selector of {base} is taken: choose one with --selector")


def create_key(domain: str, selector: str | None, actor: User | str) -> DkimKey:
    """A new 2048-bit key for `domain`; it signs from now on, the previous key is retired."""
    name = _dns_name(domain)
    if selector is None:
        selector = default_selector(name)
    selector = selector.strip().lower()
    if not signing.valid_selector(selector):
        raise DkimKeyError(f"not a valid selector: {selector!r} (letters, digits, hyphens)")
    if db.session.scalar(db.select(DkimKey.id).filter_by(domain=name, selector=selector)):
        raise DkimKeyError(f"{name} already has a key with the selector {selector}")
    pem = signing.generate_private_key()
    now = utcnow()
    db.session.execute(
        db.update(DkimKey).filter_by(domain=name, retired_at=None).values(retired_at=now)
    )
    key = DkimKey(
        domain=name,
        selector=selector,
        private_key_enc=crypto.encrypt(pem),
        public_key=signing.public_key_of(pem),
        created_at=now,
    )
    db.session.add(key)
    db.session.flush()
    audit.record(actor, "dkim.key_created", key, domain=name, selector=selector)
    return key


def ensure_key(domain: str, actor: User | str) -> DkimKey | None:
    """A signing key for `domain` (the first start's, for the desk's mail domain): the new one,
    or None when the domain has one already."""
    name = _dns_name(domain)
    if signing_key(name) is not None:
        return None
    return create_key(name, None, actor)


def remove_key(domain: str, selector: str, actor: User | str) -> DkimKey:
    """Delete a key (its private key with it). Removing the signing key stops signing for the
    domain until another key is created; retired keys are never put back to signing."""
    name = _dns_name(domain)
    key = db.session.scalar(db.select(DkimKey).filter_by(domain=name, selector=selector.lower()))
    if key is None:
        raise DkimKeyError(f"{name} has no key with the selector {selector}")
    audit.record(
        actor,
        "dkim.key_removed",
        key,
        domain=name,
        selector=key.selector,
        was_signing=key.retired_at is None,
    )
    db.session.delete(key)
    db.session.flush()
    return key


def signer_for(store: Store) -> Signer | None:
    """Who signs this store's mail: its From domain's signing key, or None — no key, or a store
    on the Rakuten relay (the mall's relay rewrites the addresses; the desk does not sign)."""
    if store.relay_mode == RelayMode.RAKUTEN:
        return None
    domain = domain_of(store.from_addr)
    key = signing_key(domain) if domain else None
    if key is None:
        return None
    try:
        return _signer(key.domain, key.selector, key.private_key_enc)
    except ValueError as exc:
        # Mail still goes (unsigned) rather than waiting; the store page shows the problem.
        log.warning("DKIM key %s of %s cannot be used: %s", key.selector, key.domain, exc)
        return None


def usable(key: DkimKey) -> bool:
    """Whether the key decrypts with the configured secret keys and parses."""
    try:
        _signer(key.domain, key.selector, key.private_key_enc)
    except ValueError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def _signer(domain: str, selector: str, private_key_enc: str) -> Signer:
    # Keyed by the ciphertext, which no other key shares: a key is decrypted and parsed (tens
    # of milliseconds) once per process, however many mails it signs.
    return Signer.from_pem(domain, selector, crypto.decrypt(private_key_enc))


def _dns_name(domain: str) -> str:
    try:
        return signing.dns_name(domain)
    except ValueError as exc:
        raise DkimKeyError(str(exc)) from exc

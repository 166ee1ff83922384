"""DKIM: a mail's DKIM-Signature (RFC 6376, rsa-sha256, relaxed/relaxed), keys and their record.

dkimpy parses the message, canonicalises it, hashes the headers and folds the field as its own
`DKIM.sign` does; the RSA signature itself is made by `cryptography` (OpenSSL), about ten times
faster than dkimpy's pure-Python RSA, with a key parsed once (`Signer` holds it). dkimpy's
`sign` takes only PEM text and parses it again for every message, which costs more than a
broadcast can spend per mail.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
import time
from dataclasses import dataclass

import dkim
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from dkim.canonicalization import CanonicalizationPolicy

from .addresses import Address, parse_address

__all__ = [
    "KEY_BITS",
    "Signer",
    "dns_name",
    "generate_private_key",
    "public_key_of",
    "txt_record",
    "txt_value",
    "valid_selector",
]

KEY_BITS = 2048
_POLICY = CanonicalizationPolicy.from_c_value(b"relaxed/relaxed")
_FIELD = b"DKIM-Signature"
# Signed when present, in this order; From is signed once more (as dkimpy does by default) so
# a second From cannot be added without breaking the signature.
SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"reply-to",
    b"mime-version",
    b"content-type",
    b"content-transfer-encoding",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
)
_SIGNED = frozenset(SIGNED_HEADERS)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TXT_CHUNK = 255  # one character-string of a TXT record holds at most 255 octets


@dataclass(frozen=True)
class Signer:
    """Signs mail From `domain` with the key published at `selector._domainkey.domain`."""

    domain: str
    selector: str
    key: rsa.RSAPrivateKey

    @classmethod
    def from_pem(cls, domain: str, selector: str, pem: str) -> Signer:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("a DKIM key must be an RSA key")
        return cls(dns_name(domain), selector, key)

    def signs(self, from_addr: Address | str) -> bool:
        """Whether mail from this address carries this domain's signature."""
        addr = from_addr if isinstance(from_addr, Address) else parse_address(from_addr)
        return dns_name(addr.domain) == self.domain

    def sign(self, message: bytes) -> bytes:
        """The message with its DKIM-Signature field in front (CRLF line ends, as composed)."""
        return self.signature(message) + message

    def signature(self, message: bytes) -> bytes:
        """The DKIM-Signature field, folded and ending in CRLF."""
        # The body is hashed as it goes on the wire; dkimpy parses only the header block.
        head, _, body = message.partition(b"\r\n\r\n")
        headers = [h for h in dkim.rfc822_parse(head)[0] if h[0].lower() in _SIGNED]
        present = {name.lower() for name, _ in headers}
        signed = tuple(h for h in SIGNED_HEADERS if h in present) + (b"from",)
        body_hash = hashlib.sha256(_POLICY.canonicalize_body(body)).digest()
        fields = [
            (b"v", b"1"),
            (b"a", b"rsa-sha256"),
            (b"c", b"relaxed/relaxed"),
            (b"d", self.domain.encode("ascii")),
            (b"s", self.selector.encode("ascii")),
            (b"t", str(int(time.time())).encode("ascii")),
            # Spaces around the colons: the field may fold there, never inside a name.
            (b"h", b" : ".join(signed)),
            (b"bh", base64.b64encode(body_hash)),
            # A long placeholder puts b= on lines of its own, so folding the finished value
            # leaves every other tag where it was hashed (dkimpy's own trick).
            (b"b", b"0" * 60),
        ]
        unsigned = dkim.RE_BTAG.sub(b"\\1", _folded(fields))
        digest = hashlib.sha256()
        dkim.hash_headers(
            digest,
            _POLICY,
            _POLICY.canonicalize_headers(headers),
            signed,
            (_FIELD, b" " + unsigned),
            None,
        )
        sig = self.key.sign(digest.digest(), padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        fields[-1] = (b"b", base64.b64encode(sig))
        return _FIELD + b": " + _folded(fields, b"\r\n")


def _folded(fields: list[tuple[bytes, bytes]], end: bytes = b"") -> bytes:
    value = b"; ".join(b"=".join(field) for field in fields) + end
    return dkim.fold(value, namelen=len(_FIELD), linesep=b"\r\n")


def generate_private_key() -> str:
    """A new RSA key (2048 bits, as Gmail and Yahoo ask for) in PEM (PKCS #1, like opendkim)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_of(pem: str) -> str:
    """The record's p= value: the public key's DER (SubjectPublicKeyInfo) in base64."""
    key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode("ascii")


def txt_value(public_key: str) -> str:
    """What the TXT record holds (for a DNS provider's value field)."""
    return f"v=DKIM1; k=rsa; p={public_key}"


def txt_record(selector: str, domain: str, public_key: str) -> str:
    """The record as one zone-file line. A 2048-bit key does not fit one TXT string (255
    octets), so the value is written as several quoted strings, which DNS joins back."""
    value = txt_value(public_key)
    strings = " ".join(f'"{value[i : i + _TXT_CHUNK]}"' for i in range(0, len(value), _TXT_CHUNK))
    return f"{selector}._domainkey.{dns_name(domain)}. IN TXT {strings}"


@functools.lru_cache(maxsize=1024)
def dns_name(domain: str) -> str:
    """A domain as DNS and the d= tag write it: lower case, international names in punycode.
    Raises ValueError for something that is not a domain name."""
    name = domain.strip().rstrip(".").lower()
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise ValueError(f"not a domain name: {domain!r}") from exc
    labels = name.split(".")
    if len(labels) < 2 or len(name) > 253 or not all(_LABEL.fullmatch(p) for p in labels):
        raise ValueError(f"not a domain name: {domain!r}")
    return name


def valid_selector(selector: str) -> bool:
    """Selectors are DNS labels (dots allowed, as RFC 6376 allows sub-selectors)."""
    return len(selector) <= 63 and all(_LABEL.fullmatch(p) for p in selector.split("."))

"""Keys, tracking codes and secrets, contact encryption, the form challenge, client keys.

Two keys live in ``$OVERSIGHT_HOME/keys/`` (created on first use, mode 0600):

- ``complaints.fernet`` encrypts contact details at rest (Fernet: AES-128-CBC + HMAC);
- ``complaints.hmac`` keys the hashes of tracking secrets, of client addresses (rate limits
  count them without storing an address) and the signature of the challenge tokens.

Losing ``complaints.fernet`` makes stored contact details unreadable: back it up with the
database, keep it out of the database's backups' reach.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from .. import config

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_NORMALISE = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def _key_path(name: str) -> Path:
    return config.settings().home / "keys" / name


def _load_or_create(name: str, make) -> bytes:  # noqa: ANN001 - () -> bytes
    path = _key_path(name)
    if path.exists():
        data = path.read_bytes().strip()
        if data:
            return data
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(make())
    try:
        os.link(tmp, path)            # atomic: the first process to create the key wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink(missing_ok=True)
    return path.read_bytes().strip()


@lru_cache(maxsize=8)
def _fernet_for(home: str) -> Fernet:
    return Fernet(_load_or_create("complaints.fernet", Fernet.generate_key))


@lru_cache(maxsize=8)
def _hmac_key_for(home: str) -> bytes:
    return base64.b64decode(_load_or_create("complaints.hmac",
                                            lambda: base64.b64encode(secrets.token_bytes(32))))


def fernet() -> Fernet:
    return _fernet_for(str(config.settings().home))


def hmac_key() -> bytes:
    return _hmac_key_for(str(config.settings().home))


def keyed_hash(purpose: str, value: str) -> str:
    return hmac.new(hmac_key(), f"{purpose}\x1f{value}".encode(), hashlib.sha256).hexdigest()


# ----------------------------------------------------------------------------------- contact
def encrypt_contact(text: str) -> bytes:
    return fernet().encrypt(text.encode("utf-8"))


def decrypt_contact(token: bytes) -> str:
    try:
        return fernet().decrypt(bytes(token)).decode("utf-8")
    except InvalidToken as exc:  # the key was changed or lost
        raise ValueError("the contact details cannot be decrypted with the current key") from exc


# ----------------------------------------------------------------------------------- codes
def _random(n: int) -> str:
    return "".join(secrets.choice(CROCKFORD) for _ in range(n))


def new_code() -> str:
    """A tracking code: 10 Crockford base32 characters (50 bits), shown as ``XXXXX-XXXXX``."""
    raw = _random(10)
    return f"{raw[:5]}-{raw[5:]}"


def new_secret() -> str:
    """The filer's secret: 10 characters (50 bits); only its keyed hash is stored."""
    return _random(10)


def normalise(value: str, length: int) -> str | None:
    """Upper-case, drop spaces and dashes, read O as 0 and I/L as 1; None when malformed."""
    s = "".join((value or "").upper().split()).replace("-", "").translate(_NORMALISE)
    if len(s) != length or any(c not in CROCKFORD for c in s):
        return None
    return s


def normalise_code(value: str) -> str | None:
    s = normalise(value, 10)
    return f"{s[:5]}-{s[5:]}" if s else None


def hash_secret(secret: str) -> str:
    return keyed_hash("secret", normalise(secret, 10) or secret)


def secret_matches(secret: str, stored: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored)


def client_key(address: str) -> str:
    return keyed_hash("client", address or "unknown")


# ----------------------------------------------------------------------------------- challenge
@dataclass(frozen=True)
class Challenge:
    question: str
    token: str
    nonce: str


_DIGITS = "零一二三四五六七八九十"


def issue_challenge(at: float | None = None) -> Challenge:
    """A small sum to solve, and a signed token carrying a one-time nonce and the time of issue
    (not the answer).  The nonce makes each form submittable once."""
    at = int(at if at is not None else time.time())
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    nonce = secrets.token_urlsafe(18)
    mac = keyed_hash("challenge", f"{nonce}|{at}|{a + b}")[:32]
    return Challenge(question=f"{_DIGITS[a]}加{_DIGITS[b]}等于几？（{a} + {b} = ?）",
                     token=f"{nonce}.{at}.{mac}", nonce=nonce)


def check_challenge(token: str, answer: str, *, min_seconds: float, ttl_seconds: float,
                    at: float | None = None) -> tuple[str | None, str]:
    """(nonce, "") when the answer is right and the token fresh; (None, reason) otherwise."""
    at = at if at is not None else time.time()
    try:
        nonce, issued, mac = (token or "").split(".")
        issued_at = int(issued)
    except ValueError:
        return None, "the form's security token is missing or damaged: reload the form"
    answer = (answer or "").strip()
    if not answer.isdigit() or len(answer) > 3:
        return None, "please answer the sum with a number"
    expect = keyed_hash("challenge", f"{nonce}|{issued_at}|{int(answer)}")[:32]
    if not hmac.compare_digest(expect, mac):
        return None, "the answer to the sum is wrong"
    age = at - issued_at
    if age < min_seconds:
        return None, "the form was sent too quickly: please read it and send it again"
    if age > ttl_seconds:
        return None, "the form has expired: reload it and send again"
    return nonce, ""

"""One-time codes: six digits sent to an address, proven once.

A code is kept only as a keyed hash (HMAC-SHA-256 of the row id and the code under the
deployment's key, ``configure``: six digits are too few to survive an unkeyed hash in the hands of
a database reader, and the row id makes equal codes differ), lives
``CODE_TTL``, is used at most once (the claim is one conditional UPDATE, so two concurrent
proofs cannot both win) and a newer code for the same purpose and address voids the older ones.
Guesses are limited per address by ``GUESSES`` on the shared throttle (core/throttle.py),
counted on a connection of their own: a wrong code rolls its mutation back and still counts.
Six digits against five guesses per quarter hour: a million to one per window."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from citizens.models import VerificationCode
from citizens.vocabulary import CodePurpose, ContactKind
from core import clock, throttle
from core.errors import DomainError
from core.ids import new_id

CODE_TTL = timedelta(minutes=15)
GUESSES = throttle.SlidingWindow("citizen-code-guess", limit=5, window=timedelta(minutes=15))


# Set by the application from its settings (api/app.py); a process that never configures one
# (a test calling the services directly) gets a random key of its own.
_key: bytes = secrets.token_bytes(32)


def configure(key: bytes) -> None:
    """The deployment's key: every replica derives the same one from its secrets."""
    global _key
    _key = key


def _hash(code_id: uuid.UUID, code: str) -> str:
    return hmac.new(_key, f"{code_id}:{code}".encode(), hashlib.sha256).hexdigest()


def invalid_code(field: str = "code") -> DomainError:
    # One answer for a wrong, expired, reused or never-sent code.
    return DomainError(
        "INVALID_CODE",
        "Mã xác minh không đúng hoặc đã hết hạn.",
        "The verification code is wrong or has expired.",
        field,
    )


async def issue(
    tenant_id: uuid.UUID,
    purpose: CodePurpose,
    kind: ContactKind,
    address: str,
    user_id: uuid.UUID | None = None,
) -> str:
    """A new code for ``address`` (older unused ones are voided); the plain code, to be sent."""
    now = clock.now()
    await VerificationCode.filter(
        tenant_id=tenant_id, purpose=purpose.value, address=address, used_at__isnull=True
    ).update(used_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    code_id = new_id()
    await VerificationCode.create(
        id=code_id,
        tenant_id=tenant_id,
        purpose=purpose.value,
        contact_kind=kind.value,
        address=address,
        user_id=user_id,
        code_hash=_hash(code_id, code),
        expires_at=now + CODE_TTL,
        created_at=now,
    )
    return code


async def consume(
    tenant_id: uuid.UUID,
    purpose: CodePurpose,
    address: str,
    code: str,
    user_id: uuid.UUID | None = None,
    field: str = "code",
) -> VerificationCode:
    """Prove ``code`` for ``address`` once: INVALID_CODE otherwise, TOO_MANY_ATTEMPTS after
    ``GUESSES`` tries. The successful proof gives its guess back."""
    now = clock.now()
    key = f"{tenant_id}:{purpose.value}:{address}"
    await throttle.take(GUESSES, key, now, field)
    row = (
        await VerificationCode.filter(
            tenant_id=tenant_id,
            purpose=purpose.value,
            address=address,
            user_id=user_id,
            used_at__isnull=True,
            expires_at__gt=now,
        )
        .order_by("-created_at")
        .first()
    )
    given = code.strip()
    if row is None or not hmac.compare_digest(row.code_hash, _hash(row.id, given[:12])):
        raise invalid_code(field)
    claimed = await VerificationCode.filter(id=row.id, used_at__isnull=True).update(used_at=now)
    if claimed == 0:  # a concurrent proof of the same code won
        raise invalid_code(field)
    await throttle.give_back(GUESSES, key, now)
    return row

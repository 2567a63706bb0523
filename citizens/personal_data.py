"""Everything stored about the calling citizen, in one document (``myData``): the account and
profile, roles, sessions, pending codes (never their hashes), the reports they filed with the
contact details kept for each, what they wrote on them, and the messages sent to them.
Password hashes and refresh tokens are credentials, not data about the person: only the fact
that a password exists is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from accounts.models import AuthSession, Membership
from citizens.models import VerificationCode
from citizens.profile import own_profile
from outbox.models import OutboxMessage
from permissions.scope import Scope
from reports import queries
from reports.models import ReporterContact, ReportEvent


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def my_data(scope: Scope) -> dict[str, Any]:
    user, profile = await own_profile(scope)
    tenant_id = scope.require_tenant()
    reports = await queries.own_reports(scope).order_by("created_at")
    report_ids = [r.id for r in reports]
    contacts = {
        c.report_id: c
        for c in await ReporterContact.filter(tenant_id=tenant_id, report_id__in=report_ids)
    }
    own_events = await ReportEvent.filter(
        tenant_id=tenant_id, report_id__in=report_ids, actor_user_id=user.id
    ).order_by("created_at")
    codes = await VerificationCode.filter(tenant_id=tenant_id, user_id=user.id)
    addresses = [a for a in (user.email, user.phone) if a]
    messages = await OutboxMessage.filter(tenant_id=tenant_id, recipient__in=addresses).order_by(
        "created_at"
    )
    return {
        "account": {
            "username": user.username,
            "fullName": user.full_name,
            "email": user.email,
            "phone": user.phone,
            "externalIdentity": user.external_subject,
            "active": user.is_active,
            "createdAt": _at(user.created_at),
        },
        "profile": {
            "kind": profile.kind,
            "organisationName": profile.organisation_name,
            "taxCode": profile.tax_code,
            "emailVerifiedAt": _at(profile.email_verified_at),
            "phoneVerifiedAt": _at(profile.phone_verified_at),
            "externalVerifiedAt": _at(profile.external_verified_at),
            "notifyByEmail": profile.notify_email,
            "notifyBySms": profile.notify_sms,
            "language": profile.language,
        },
        "roles": [
            {"role": m.role, "since": _at(m.created_at)}
            for m in await Membership.filter(user_id=user.id, tenant_id=tenant_id)
        ],
        "sessions": [
            {"openedAt": _at(s.created_at), "endedAt": _at(s.revoked_at)}
            for s in await AuthSession.filter(user_id=user.id).order_by("created_at")
        ],
        "pendingCodes": [
            {"purpose": c.purpose, "address": c.address, "expiresAt": _at(c.expires_at)}
            for c in codes
            if c.used_at is None
        ],
        "reports": [
            {
                "code": r.code,
                "title": r.title,
                "description": r.description,
                "address": r.address,
                "latitude": r.latitude,
                "longitude": r.longitude,
                "state": r.state,
                "anonymous": r.anonymous,
                "submittedAt": _at(r.created_at),
                "contact": _contact(contacts.get(r.id)),
                "written": [
                    {"action": e.action, "comment": e.comment, "at": _at(e.created_at)}
                    for e in own_events
                    if e.report_id == r.id
                ],
            }
            for r in reports
        ],
        "messages": [
            {
                "channel": m.channel,
                "to": m.recipient,
                "subject": m.subject,
                "status": m.status,
                "at": _at(m.created_at),
            }
            for m in messages
        ],
    }


def _contact(row: ReporterContact | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {"name": row.name, "phone": row.phone, "email": row.email, "language": row.language}

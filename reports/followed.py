"""The reporter's own steps on a report transferred to another locality (issue 12).

Accounts belong to one locality, so a signed-in reporter's token never reaches the receiving
tenant. Instead the reporter's step (rating, reopening) is asked in their own tenant with the
copy's id and version, as ``trackReport`` shows them there: when the id is not found, it is
looked for among the copies of the caller's own transferred records: the copy must name this
tenant and one of the caller's TRANSFERRED records as its source and the caller as its
reporter. The step then runs in a savepoint bound to the receiving tenant
(``tenant_transaction``, RLS unchanged) with a scope that holds the caller's identity and only
the permission of that step, so the table lets it act as the reporter and as nothing else.
Use it through ``reports.service.transition``."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from types import MappingProxyType

from core.errors import NotFound
from permissions.scope import Reach, Scope
from permissions.session import tenant_transaction
from reports import transitions
from reports.media import ProcessedMedia
from reports.models import Report
from reports.storage import Storage
from reports.transitions import AssignInput
from reports.workflow import ReportState, WorkflowAction, permission_of

log = logging.getLogger("paht.audit")

#: The reporter's steps that follow the report into the receiving tenant.
FOLLOWED = frozenset({WorkflowAction.RATE, WorkflowAction.RATE_DISSATISFIED, WorkflowAction.REOPEN})


async def _own_copy(scope: Scope, report_id: uuid.UUID) -> Report | None:
    """The copy ``report_id`` of one of the caller's transferred records, or None."""
    tenant_id, user_id = scope.require_tenant(), scope.require_user()
    records = await Report.filter(
        tenant_id=tenant_id,
        reporter_user_id=user_id,
        state=ReportState.TRANSFERRED.value,
        transferred_to_tenant_id__not_isnull=True,
    ).values_list("transferred_to_tenant_id", "code")
    codes: dict[uuid.UUID, list[str]] = {}
    for target_id, code in records:
        codes.setdefault(target_id, []).append(code)
    for target_id, sources in codes.items():
        async with tenant_transaction(target_id):
            copy = await Report.get_or_none(
                tenant_id=target_id,
                id=report_id,
                reporter_user_id=user_id,
                transferred_from_tenant_id=tenant_id,
                transferred_from_code__in=sources,
            )
        if copy is not None:
            return copy
    return None


def _reporter_in(scope: Scope, tenant_id: uuid.UUID, action: WorkflowAction) -> Scope:
    """The caller as the reporter in ``tenant_id``: this step's permission only, and only if
    the caller's own tenant grants it."""
    permission = permission_of(action)
    reach = {str(permission): frozenset({Reach()})} if scope.allows(permission) else {}
    return Scope(
        user_id=scope.user_id,
        tenant_id=tenant_id,
        readable_tenant_ids=frozenset({tenant_id}),
        reach=MappingProxyType(reach),
    )


async def transition(
    scope: Scope,
    report_id: uuid.UUID,
    action: WorkflowAction | str,
    expected_version: int,
    reason_code: str | None = None,
    comment: str | None = None,
    assign: AssignInput | None = None,
    *,
    rating: int | None = None,
    media: Sequence[ProcessedMedia] = (),
    storage: Storage | None = None,
    duplicate_of: Report | None = None,
) -> Report:
    """``reports.transitions.transition``, which also reaches the caller's own transferred
    copies for the reporter's steps (``FOLLOWED``)."""
    try:
        return await transitions.transition(
            scope,
            report_id,
            action,
            expected_version,
            reason_code,
            comment,
            assign,
            rating=rating,
            media=media,
            storage=storage,
            duplicate_of=duplicate_of,
        )
    except NotFound:
        followed = action in {a.value for a in FOLLOWED} and scope.user_id is not None
        copy = await _own_copy(scope, report_id) if followed else None
        if copy is None or media or assign is not None or duplicate_of is not None:
            raise
    step = WorkflowAction(action)
    log.info(
        "reporter step on a transferred copy",
        extra={
            "user_id": str(scope.user_id),
            "from_tenant": str(scope.tenant_id),
            "to_tenant": str(copy.tenant_id),
            "report_id": str(copy.id),
            "action": step.value,
        },
    )
    async with tenant_transaction(copy.tenant_id):
        return await transitions.transition(
            _reporter_in(scope, copy.tenant_id, step),
            report_id,
            step,
            expected_version,
            reason_code,
            comment,
            rating=rating,
        )

"""GraphQL for splitting a tenant by units (tenants/split.py): ``splitTenant``, with a dry run."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires
from tenants import split


@strawberry.input
class SplitTenantInput:
    source: relay.GlobalID
    target: relay.GlobalID
    units: list[str] = strawberry.field(
        description="Codes of the administrative units whose reports move to the target."
    )
    dry_run: bool = strawberry.field(
        default=False, description="Only say what would move; nothing is written."
    )


@strawberry.type(description="Rows of one table that moved (or would).")
class SplitRows:
    table: str
    rows: int


@strawberry.type
class TenantSplit:
    key: str
    dry_run: bool
    moved_units: list[str] = strawberry.field(
        description="The source's unit codes that leave its scope for the target's."
    )
    report_count: int = strawberry.field(description="Reports that move (or would).")
    rows: list[SplitRows]


@strawberry.type
class SplitTenantPayload:
    split: TenantSplit | None
    errors: list[UserError]


def _result(plan: split.SplitPlan) -> TenantSplit:
    return TenantSplit(
        key=plan.key,
        dry_run=plan.dry_run,
        moved_units=list(plan.moved_units),
        report_count=plan.counts.get("report", 0),
        rows=[SplitRows(table=t, rows=n) for t, n in plan.counts.items()],
    )


@strawberry.type
class SplitMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description="Split a tenant by administrative units: the reports of the units move, "
        "with their history and files' rows, into an active target; their codes keep "
        "resolving in the source, which stays active. Memberships stay with the source. One "
        "atomic step; calling again moves nothing twice.",
    )
    async def split_tenant(self, info: Info, input: SplitTenantInput) -> SplitTenantPayload:
        async def work() -> split.SplitPlan:
            source = decode(input.source, "Tenant", "source")
            target = decode(input.target, "Tenant", "target")
            return await split.split_tenant(
                info.context.scope, source, target, input.units, dry_run=input.dry_run
            )

        def payload(plan: split.SplitPlan | None, errors: list[UserError]) -> Any:
            return SplitTenantPayload(split=_result(plan) if plan else None, errors=errors)

        return await run_mutation(info, work, payload)

"""GraphQL for merging tenants (tenants/merge.py): ``mergeTenants``, with a dry run."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires
from tenants import merge


@strawberry.input
class MergeTenantsInput:
    sources: list[relay.GlobalID]
    target: relay.GlobalID
    dry_run: bool = strawberry.field(
        default=False, description="Only say what would move; nothing is written."
    )


@strawberry.type(description="Rows of one table of one source tenant that moved (or would).")
class MergedRows:
    source_code: str
    table: str
    rows: int


@strawberry.type
class TenantMerge:
    key: str
    dry_run: bool
    merged_source_codes: list[str] = strawberry.field(
        description="Sources merged into the target (before this call, or by it)."
    )
    rows: list[MergedRows]
    renamed_codes: list[str] = strawberry.field(
        description="Agency codes the target already uses, prefixed with their source's code, "
        "as `source:agency:code`."
    )
    joined_field_codes: list[str] = strawberry.field(
        description="Fields whose code the target already has: the source's reports, grants "
        "and figures of each join the target's field, as `source:code`."
    )


@strawberry.type
class MergeTenantsPayload:
    merge: TenantMerge | None
    errors: list[UserError]


def _result(plan: merge.MergePlan, dry_run: bool) -> TenantMerge:
    return TenantMerge(
        key=plan.key,
        dry_run=dry_run,
        merged_source_codes=list(plan.done),
        rows=[
            MergedRows(source_code=code, table=table, rows=n)
            for code, counts in plan.counts.items()
            for table, n in sorted(counts.items())
        ],
        renamed_codes=[f"{code}:agency:{c}" for code, codes in plan.renamed.items() for c in codes],
        joined_field_codes=[f"{code}:{c}" for code, codes in plan.joined.items() for c in codes],
    )


@strawberry.type
class MergeMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description="Merge tenants into a target: records move, old report codes keep "
        "resolving, the sources become read-only MERGED pointing at the target. One atomic "
        "step per source; call again to resume an interrupted merge.",
    )
    async def merge_tenants(self, info: Info, input: MergeTenantsInput) -> MergeTenantsPayload:
        async def work() -> merge.MergePlan:
            sources = [decode(s, "Tenant", f"sources[{i}]") for i, s in enumerate(input.sources)]
            target = decode(input.target, "Tenant", "target")
            run = merge.plan_merge if input.dry_run else merge.merge_tenants
            return await run(info.context.scope, sources, target)

        def payload(plan: merge.MergePlan | None, errors: list[UserError]) -> Any:
            result = _result(plan, input.dry_run) if plan else None
            return MergeTenantsPayload(merge=result, errors=errors)

        return await run_mutation(info, work, payload)

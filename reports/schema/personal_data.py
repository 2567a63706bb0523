"""The anonymous reporter's own data, by tracking code (reports/contact_requests.py): what a
report holds about them is ``Report.heldContact`` (through ``trackReport``); here they have it
erased at once."""

from __future__ import annotations

import strawberry

from core.graphql import Info, UserError, run_mutation
from reports import service
from reports.schema.moved import following_moves
from reports.schema.parts import HeldContact


@strawberry.input
class EraseContactInput:
    tracking_code: str


@strawberry.type
class EraseContactPayload:
    contact: HeldContact | None = strawberry.field(
        description="What the report holds now (blanked); null if no contact was given."
    )
    errors: list[UserError]


@strawberry.type
class PersonalDataMutation:
    @strawberry.mutation(
        description="An anonymous reporter (or a hotline caller) has the contact given with "
        "the report erased now instead of at the end of the retention period (Decree "
        "13/2023/ND-CP). The report stays and is still followed by its code; its progress is "
        "no longer sent. X-Paht-Tenant names the locality; the code is the proof, looked up "
        "and limited as trackReport's."
    )
    async def erase_contact_by_tracking_code(
        self, info: Info, input: EraseContactInput
    ) -> EraseContactPayload:
        ctx = info.context

        async def work() -> service.HeldContact | None:
            return await following_moves(
                info,
                lambda scope: service.erase_contact_by_tracking_code(
                    scope, input.tracking_code, ctx.client_address
                ),
            )

        return await run_mutation(
            info,
            work,
            lambda held, errors: EraseContactPayload(
                contact=HeldContact.of(held) if held else None, errors=errors
            ),
        )

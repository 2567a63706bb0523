"""GraphQL for tenant administrators: register, list and revoke Open311 client applications."""

from __future__ import annotations

import datetime
from typing import Any, Self

import strawberry
from strawberry import relay

from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from open311 import clients, models
from permissions.actions import Action
from permissions.graphql import requires


@strawberry.type(description="An application allowed to submit requests over Open311.")
class Open311Client:
    id: relay.GlobalID
    name: str
    contact: str
    key_prefix: str = strawberry.field(description="The start of its api key, to tell keys apart.")
    created_at: datetime.datetime
    revoked_at: datetime.datetime | None

    @classmethod
    def from_row(cls, row: models.Open311Client) -> Self:
        return cls(
            id=relay.GlobalID("Open311Client", str(row.id)),
            name=row.name,
            contact=row.contact,
            key_prefix=row.key_prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


@strawberry.input
class RegisterOpen311ClientInput:
    name: str
    contact: str = ""


@strawberry.input
class RevokeOpen311ClientInput:
    id: relay.GlobalID


@strawberry.type
class RegisterOpen311ClientPayload:
    client: Open311Client | None
    api_key: str | None = strawberry.field(
        description="The api key, shown this once: only its hash is kept."
    )
    errors: list[UserError]


@strawberry.type
class Open311ClientPayload:
    client: Open311Client | None
    errors: list[UserError]


@strawberry.type
class Open311Query:
    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE),
        description="The tenant's Open311 client applications, revoked ones included.",
    )
    async def open311_clients(self, info: Info) -> list[Open311Client]:
        return [Open311Client.from_row(r) for r in await clients.list_clients(info.context.scope)]


@strawberry.type
class Open311Mutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Register a client application; its api key is in the payload, once.",
    )
    async def register_open311_client(
        self, info: Info, input: RegisterOpen311ClientInput
    ) -> RegisterOpen311ClientPayload:
        async def work() -> clients.Registered:
            return await clients.register_client(info.context.scope, input.name, input.contact)

        def payload(r: clients.Registered | None, errors: list[UserError]) -> Any:
            return RegisterOpen311ClientPayload(
                client=Open311Client.from_row(r.client) if r else None,
                api_key=r.api_key if r else None,
                errors=errors,
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Revoke a client application: its api key stops working at once.",
    )
    async def revoke_open311_client(
        self, info: Info, input: RevokeOpen311ClientInput
    ) -> Open311ClientPayload:
        async def work() -> models.Open311Client:
            return await clients.revoke_client(
                info.context.scope, decode(input.id, "Open311Client", "id")
            )

        return await run_mutation(
            info,
            work,
            lambda r, e: Open311ClientPayload(
                client=Open311Client.from_row(r) if r else None, errors=e
            ),
        )

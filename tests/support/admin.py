"""Administration over GraphQL as a tenant admin: create users, grant roles, look fields up."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient, unique

PASSWORD = "mat-khau-kiem-thu-2026"


CREATE_USER = """mutation($i: CreateUserInput!) { createUser(input: $i) {
  user { id username isActive } errors { code field } } }"""


GRANT_ROLE = """mutation($i: GrantRoleInput!) { grantRole(input: $i) {
  membership { id role fieldId } errors { code field } } }"""


async def post(
    gql: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
    tenant: str | None = None,
) -> Any:
    """The raw HTTP response of one GraphQL POST (bearer token and/or tenant header)."""
    headers = {"Accept-Language": "en"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if tenant:
        headers["X-Paht-Tenant"] = tenant
    return await gql.http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )


async def create_user(gql: GraphQLClient, admin: str, prefix: str = "rv") -> tuple[str, str]:
    """A fresh account in the admin's tenant: (global id, username)."""
    username = unique(prefix)
    data = await gql.ok(
        CREATE_USER,
        {"i": {"username": username, "fullName": "Người kiểm thử", "password": PASSWORD}},
        token=admin,
    )
    assert data["createUser"]["errors"] == [], data
    return data["createUser"]["user"]["id"], username


async def grant(gql: GraphQLClient, admin: str, user_id: str, role: str, **narrow: Any) -> str:
    """Grant ``role`` (optionally narrowed: fieldId / agencyId); returns the membership id."""
    data = await gql.ok(GRANT_ROLE, {"i": {"userId": user_id, "role": role, **narrow}}, admin)
    assert data["grantRole"]["errors"] == [], data
    return data["grantRole"]["membership"]["id"]


async def field_ids(gql: GraphQLClient, token: str) -> dict[str, str]:
    fields = (await gql.ok("{ fields { id code } }", token=token))["fields"]
    return {f["code"]: f["id"] for f in fields}

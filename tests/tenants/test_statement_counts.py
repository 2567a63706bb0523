"""Tenant configuration lists resolve their relations in batches, not once per row."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient
from tests.statements import count_statements


async def test_default_agencies_of_all_fields_cost_one_query(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    token = await gql.login("sapa.admin", pilot["password"])
    with count_statements() as statements:
        data = await gql.ok("{ fields { code defaultAgency { code } } }", token=token)
    with_agency = [f for f in data["fields"] if f["defaultAgency"]]
    assert len(with_agency) >= 8  # the pilot's fields (other tests may add more)
    # set_config, the fields, then one batched query for all their default agencies
    assert len(statements) == 3, statements

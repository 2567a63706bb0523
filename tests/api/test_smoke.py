from tests.conftest import GraphQLClient


async def test_sapa_admin_sees_only_sapa(gql: GraphQLClient, pilot: dict) -> None:
    token = await gql.login("sapa.admin", pilot["password"])
    data = await gql.ok(
        "{ currentTenant { code } agencies { code } fields { code } tenants { code } }", token=token
    )
    assert data["currentTenant"]["code"] == "sa-pa"
    assert [t["code"] for t in data["tenants"]] == ["sa-pa"]
    assert len(data["fields"]) == 8

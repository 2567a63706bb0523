"""The GraphQL schema: assembled from the domain packages, with limits and caches built once."""

from __future__ import annotations

import strawberry
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig

from accounts.schema import AccountMutation, AccountQuery
from api.extensions import CodedMaskErrors, ScopedTransaction, should_mask
from api.settings import get_settings
from permissions.schema import PermissionMutation, PermissionQuery
from reports.schema import ReportMutation, ReportQuery, ReportSubscription
from tenants.regulation_schema import RegulationMutation, RegulationQuery
from tenants.schema import TenantMutation, TenantQuery


@strawberry.type
class Query(AccountQuery, TenantQuery, RegulationQuery, PermissionQuery, ReportQuery):
    node: relay.Node | None = relay.node(description="Any object by its global ID.")


@strawberry.type
class Mutation(
    AccountMutation, TenantMutation, RegulationMutation, PermissionMutation, ReportMutation
):
    pass


@strawberry.type
class Subscription(ReportSubscription):
    pass


_settings = get_settings()
# Built once: a limiter constructed per request makes a new rule class each time and the
# validation cache would never hit (stack notes §2.2).
_LIMIT_RULES = [
    *QueryDepthLimiter(max_depth=_settings.max_query_depth).validation_rules,
    *MaxAliasesLimiter(max_alias_count=_settings.max_aliases).validation_rules,
]


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(relay_max_results=_settings.max_page_size),
        extensions=[
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: AddValidationRules(_LIMIT_RULES),
            lambda: MaxTokensLimiter(max_token_count=_settings.max_tokens),
            lambda: CodedMaskErrors(should_mask_error=should_mask, error_message="Internal error."),
            ScopedTransaction,
        ],
    )


schema = build_schema()

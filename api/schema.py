"""The GraphQL schema: assembled from the domain packages, with limits and caches built once."""

from __future__ import annotations

import re
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import AddValidationRules, ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from accounts.grants_schema import GrantMutation, GrantQuery
from accounts.password_schema import PasswordMutation
from accounts.provincial_schema import ProvincialAdminMutation, ProvincialAdminQuery
from accounts.schema import AccountMutation, AccountQuery
from api.errors import log_error
from api.extensions import CodedMaskErrors, ScopedTransaction, should_mask
from api.limits import GraphQLLimits, complexity_limit, size_limits, validation_rules
from api.settings import get_settings
from citizens.external_schema import ExternalLoginMutation
from citizens.schema import CitizenMutation, CitizenQuery
from open311.schema import Open311Mutation, Open311Query
from outbox.schema import OutboxMutation, OutboxQuery
from permissions.schema import PermissionMutation, PermissionQuery
from reports.schema import ReportMutation, ReportQuery, ReportSubscription
from stats.exports_schema import ExportMutation, ExportQuery
from stats.pilot_schema import PilotMutation, PilotQuery
from stats.public_schema import PublicStatsQuery
from stats.schema import StatsQuery
from tenants.me_schema import MeQuery
from tenants.merge_schema import MergeMutation
from tenants.regulation_schema import RegulationMutation, RegulationQuery
from tenants.schema import TenantMutation, TenantQuery
from tenants.split_schema import SplitMutation


@strawberry.type
class Query(
    MeQuery,
    AccountQuery,
    GrantQuery,
    ProvincialAdminQuery,
    TenantQuery,
    RegulationQuery,
    PermissionQuery,
    OutboxQuery,
    ReportQuery,
    StatsQuery,
    PilotQuery,
    PublicStatsQuery,
    ExportQuery,
    Open311Query,
    CitizenQuery,
):
    node: relay.Node | None = relay.node(description="Any object by its global ID.")


@strawberry.type
class Mutation(
    AccountMutation,
    GrantMutation,
    PasswordMutation,
    ProvincialAdminMutation,
    TenantMutation,
    MergeMutation,
    SplitMutation,
    RegulationMutation,
    PermissionMutation,
    OutboxMutation,
    ReportMutation,
    Open311Mutation,
    PilotMutation,
    ExportMutation,
    CitizenMutation,
    ExternalLoginMutation,
):
    pass


@strawberry.type
class Subscription(ReportSubscription):
    pass


_SUGGESTION = re.compile(r"\s*Did you mean .*\?$", re.DOTALL)


class PahtSchema(strawberry.Schema):
    """Logs each error once, quietly for client errors, and (unless configured otherwise)
    drops graphql-core's "Did you mean …" hints, which would map the schema for anyone."""

    def __init__(self, *args: Any, suggestions: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.suggestions = suggestions

    def _process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        for error in errors:
            if not self.suggestions:
                error.message = _SUGGESTION.sub("", error.message)
            log_error(error)


def build_schema(limits: GraphQLLimits) -> PahtSchema:
    """Called once per process (strawberry types can join one schema only). The limit rules
    are built here, once: a rule class made per request would defeat the validation cache."""
    rules = validation_rules(limits)
    return PahtSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        suggestions=limits.suggestions,
        config=StrawberryConfig(relay_max_results=limits.max_page_size),
        extensions=[
            size_limits(limits),  # first: refuses oversized text before it is parsed
            lambda: ParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: AddValidationRules(rules),
            complexity_limit(limits),  # after the validation cache: sees its verdict
            lambda: CodedMaskErrors(should_mask_error=should_mask, error_message="Internal error."),
            ScopedTransaction,
        ],
    )


# Limits come from the environment (PAHT_*); they do not change the SDL (`paht schema`).
schema = build_schema(get_settings().graphql_limits())

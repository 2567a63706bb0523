"""The reports domain's GraphQL schema: types, inputs, reads and mutations."""

import strawberry

from reports.schema.escalations import EscalationQuery
from reports.schema.live import ReportSubscription
from reports.schema.mutations import WorkflowMutation
from reports.schema.personal_data import PersonalDataMutation
from reports.schema.read import ReportQuery as ReadQuery
from reports.schema.side import NotificationMutation, SideMutation


@strawberry.type
class ReportQuery(ReadQuery, EscalationQuery):
    pass


@strawberry.type
class ReportMutation(WorkflowMutation, SideMutation, NotificationMutation, PersonalDataMutation):
    pass


__all__ = ["ReportMutation", "ReportQuery", "ReportSubscription"]

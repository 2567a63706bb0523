"""The only writer of reports: submission, workflow transitions and side processes (DESIGN §4).

Callers run these inside ``permissions.session.scoped_transaction(scope)``: RLS then confines
every statement to the scope's tenant, and a raised ``DomainError`` rolls the whole step back.
Every service takes the ``Scope`` first and raises ``DomainError`` (vi + en message, field).

- ``submit_report(scope, SubmitInput, storage=None) -> SubmitResult``: validated, idempotent on
  the client's key (a retry returns the first report and stores nothing), located in one of the
  tenant's administrative units (``OUT_OF_AREA`` otherwise), screening deadline set, photos
  stored, SUBMITTED event recorded; ``possible_duplicates`` lists open reports nearby.
- ``transition(scope, report_id, action, expected_version, reason_code, comment, assign, *,
  rating, media, storage)``: one step of ``reports.workflow.TRANSITIONS``, guarded by
  permission (staff) or ownership (reporter) and by optimistic concurrency on ``version``
  (``STALE_VERSION``); SUBMIT_RESULT after-photos are attached to the step's event.
- ``store_media(scope, report_id, media, storage, event_id=None) -> list[Attachment]``.
- ``locate(latitude, longitude) -> Location``, ``tenant_for_point(latitude, longitude)``.
- ``nearby_open_reports(scope, field_id, latitude, longitude, radius_m=None, limit=5)``.
- Side processes (the state never changes; ``version`` moves only with the report row):
  ``request_extension``, ``decide_extension``, ``request_info``, ``answer_info``,
  ``add_comment``, ``publish``.
"""

from reports.attachments import store_media
from reports.duplicates import nearby_open_reports
from reports.extensions import answer_info, decide_extension, request_extension, request_info
from reports.locator import Location, locate, tenant_for_point
from reports.side import SideAction, add_comment, publish
from reports.submission import (
    ContactInput,
    SubmitInput,
    SubmitResult,
    admit_anonymous,
    submit_report,
)
from reports.transitions import MEDIA_ACTIONS, AssignInput, transition

__all__ = [
    "MEDIA_ACTIONS",
    "AssignInput",
    "ContactInput",
    "Location",
    "SideAction",
    "SubmitInput",
    "SubmitResult",
    "add_comment",
    "admit_anonymous",
    "answer_info",
    "decide_extension",
    "locate",
    "nearby_open_reports",
    "publish",
    "request_extension",
    "request_info",
    "store_media",
    "submit_report",
    "tenant_for_point",
    "transition",
]

"""The reports domain's use cases, in one import for the GraphQL layer, the demo and tests.

The writers are the use-case modules themselves (submission, transitions, side,
deadline_extensions, attachments; reminders and jobs for the system's own steps); each changes
the report row and appends its history through ``reports.records``, and resolvers never write.
Callers run them inside ``permissions.session.scoped_transaction(scope)``: RLS then confines
every statement to the scope's tenant, and a raised ``DomainError`` (code, Vietnamese and
English message, field) rolls the whole step back.

- ``submit_report(scope, SubmitInput, storage=None) -> SubmitResult``: validated, idempotent on
  the client's key, located in one of the tenant's administrative units (``OUT_OF_AREA``
  otherwise), screening deadline set, photos stored, SUBMIT event recorded; possible duplicates
  nearby, also as the submitter may see them (``shown_duplicates``).
- ``transition(scope, report_id, action, expected_version, reason_code, comment, assign, *,
  rating, media, storage)``: one step of ``reports.workflow.TRANSITIONS``, guarded by
  permission (staff) or ownership (reporter) and by optimistic concurrency on ``version``
  (``STALE_VERSION``); ``mark_duplicate`` for the step that names a master.
- ``store_media``, ``locate``, ``tenant_for_point``, ``nearby_open_reports``.
- Side processes (the state never changes; ``version`` moves only with the report row):
  ``request_extension``, ``decide_extension``, ``request_info``, ``answer_info``,
  ``add_comment``, ``publish``.
- The reporter's account (reports/reporter_accounts.py): ``claim_reports`` (by tracking codes),
  ``forget_reporter`` (a deleted account's contact rows wiped, the reports kept).
- An anonymous reporter's own data (reports/contact_requests.py): ``held_contact``,
  ``describe_contact``, ``erase_contact_by_tracking_code`` (the tracking code proves who asks).
"""

from reports.attachments import store_media
from reports.contact_requests import (
    HeldContact,
    erase_contact_by_tracking_code,
    held_contact,
)
from reports.contact_requests import describe as describe_contact
from reports.coordination import set_coordinating_agencies
from reports.deadline_extensions import (
    answer_info,
    answer_info_by_tracking_code,
    decide_extension,
    request_extension,
    request_info,
)
from reports.duplicates import nearby_open_reports
from reports.escalation import escalate
from reports.followed import transition
from reports.handoff import hand_off
from reports.locator import Location, locate, tenant_for_point
from reports.reporter_accounts import claim_reports, forget_reporter
from reports.side import add_comment, publish
from reports.submission import (
    ContactInput,
    SubmitInput,
    SubmitResult,
    admit_anonymous,
    submit_report,
)
from reports.transfer import transfer_report
from reports.transitions import MEDIA_ACTIONS, AssignInput, mark_duplicate
from reports.workflow import SideAction

__all__ = [
    "MEDIA_ACTIONS",
    "AssignInput",
    "ContactInput",
    "HeldContact",
    "Location",
    "SideAction",
    "SubmitInput",
    "SubmitResult",
    "add_comment",
    "admit_anonymous",
    "answer_info",
    "answer_info_by_tracking_code",
    "claim_reports",
    "decide_extension",
    "describe_contact",
    "erase_contact_by_tracking_code",
    "escalate",
    "forget_reporter",
    "hand_off",
    "held_contact",
    "locate",
    "mark_duplicate",
    "nearby_open_reports",
    "publish",
    "request_extension",
    "request_info",
    "set_coordinating_agencies",
    "store_media",
    "submit_report",
    "tenant_for_point",
    "transfer_report",
    "transition",
]

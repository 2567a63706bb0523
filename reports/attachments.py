"""Storing processed media (``reports.media.process_upload``) as a report's attachments.

Files go to ``reports.storage`` first, then ``Attachment`` rows are inserted. Storage is not
transactional, so every writer tracks the keys it wrote and deletes them when anything after the
write fails: a failed step leaves neither a file nor a row behind. Use it through
``reports.service`` (submission, transitions and comments call it inside their savepoint).
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from core import clock, rollback
from core.errors import DomainError, NotFound
from core.glossary import Term
from core.ids import new_id
from permissions.scope import Scope
from reports.media import FIELD, MediaLimits, ProcessedMedia, check_counts
from reports.models import Attachment, Report
from reports.storage import Storage, make_key

log = logging.getLogger("paht.attachments")

_THUMBNAIL_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


@dataclass
class WrittenFiles:
    """Keys written to ``storage`` during one step, deleted again if the step fails."""

    storage: Storage
    keys: list[str] = field(default_factory=list)

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        self.keys.append(key)  # before the write: a half-written file is cleaned up too
        await self.storage.save(key, data, content_type)

    async def delete_all(self) -> None:
        for key in reversed(self.keys):
            try:
                await self.storage.delete(key)
            except Exception:  # keep deleting the others; a sweeper finds what is left
                log.exception("could not delete stored file %s", key)
        self.keys.clear()


@contextlib.asynccontextmanager
async def cleanup_on_error(storage: Storage | None) -> AsyncIterator[WrittenFiles | None]:
    """Yield a ``WrittenFiles`` whose files are deleted if the block raises."""
    if storage is None:
        yield None
        return
    written = WrittenFiles(storage)
    try:
        yield written
    except BaseException:
        await written.delete_all()
        raise
    # The step succeeded, but the request's transaction may still roll back (a later error in
    # the same operation): then the files go too.
    rollback.on_rollback(written.delete_all)


def check_media(
    media: Sequence[ProcessedMedia],
    storage: Storage | None,
    limits: MediaLimits | None = None,
) -> None:
    """Refuse too many files, a photo/video mix, or media with nowhere to store them."""
    if not media:
        return
    check_counts((m.kind for m in media), limits or MediaLimits())
    if storage is None:
        raise DomainError(
            "STORAGE_UNAVAILABLE",
            "Chưa cấu hình nơi lưu tệp đính kèm.",
            "No storage is configured for attachments.",
            FIELD,
        )


async def _write(
    tenant_id: uuid.UUID,
    report_id: uuid.UUID,
    event_id: uuid.UUID | None,
    media: Sequence[ProcessedMedia],
    written: WrittenFiles,
    now: datetime,
) -> list[Attachment]:
    rows: list[Attachment] = []
    for item in media:
        attachment_id = new_id()
        key = make_key(tenant_id, attachment_id, item.extension, now=now)
        await written.save(key, item.data, item.content_type)
        thumbnail_key = None
        if item.thumbnail is not None:
            content_type = item.thumbnail_content_type or "image/jpeg"
            extension = _THUMBNAIL_EXTENSIONS.get(content_type, "jpg")
            thumbnail_key = make_key(tenant_id, attachment_id, extension, "thumb", now=now)
            await written.save(thumbnail_key, item.thumbnail, content_type)
        rows.append(
            Attachment(
                id=attachment_id,
                tenant_id=tenant_id,
                report_id=report_id,
                event_id=event_id,
                kind=item.kind.value,
                content_type=item.content_type,
                storage_key=key,
                thumbnail_key=thumbnail_key,
                size=item.size,
                sha256=item.sha256,
                width=item.width,
                height=item.height,
                created_at=now,
            )
        )
    return rows


async def store_media(
    scope: Scope,
    report_id: uuid.UUID,
    media: Sequence[ProcessedMedia],
    storage: Storage,
    event_id: uuid.UUID | None = None,
    *,
    written: WrittenFiles | None = None,
    now: datetime | None = None,
) -> list[Attachment]:
    """Save each file (and its thumbnail) under the tenant, then insert its ``Attachment`` row.

    The caller has checked permission and counts (``check_media``). If anything fails, the files
    written here are deleted and the error re-raised. With ``written``, the keys are also recorded
    there so that the caller can delete them if a later statement of its own step fails. ``now``
    is the step's instant (the rows' ``created_at``, the keys' month folder)."""
    tenant_id = scope.require_tenant()
    if written is not None and written.storage is not storage:
        raise ValueError("written must track the same storage")
    if not media:
        return []
    if not await Report.exists(tenant_id=tenant_id, id=report_id):
        raise NotFound(Term.REPORT)
    mine = WrittenFiles(storage)
    try:
        rows = await _write(tenant_id, report_id, event_id, media, mine, now or clock.now())
        for row in rows:
            await row.save()
    except BaseException:
        await mine.delete_all()
        raise
    if written is not None:
        written.keys.extend(mine.keys)
    return rows


async def write_media_files(
    tenant_id: uuid.UUID,
    report_id: uuid.UUID,
    media: Sequence[ProcessedMedia],
    written: WrittenFiles,
    now: datetime,
) -> list[Attachment]:
    """For a report written in the same statement as its attachments (submission): save the
    files, recorded in ``written`` (deleted if the step fails), and return the rows unwritten."""
    return await _write(tenant_id, report_id, None, media, written, now)

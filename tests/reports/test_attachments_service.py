"""Attachments against the real database and a temporary LocalStorage: a failed step leaves
neither a file nor a row, a successful one exactly a file and a thumbnail per photo."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.batch import Batch
from core.errors import DomainError
from permissions.session import scoped_transaction
from reports import attachments as attachments_module
from reports.media import MediaLimits, ProcessedMedia, process_upload
from reports.models import Attachment, Report, ReportEvent
from reports.service import (
    AssignInput,
    add_comment,
    store_media,
    submit_report,
    transition,
)
from reports.storage import LocalStorage
from reports.workflow import WorkflowAction as A
from tests.support.services import in_progress, new_input, sapa_env, step


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    return await sapa_env(pilot)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


def photo(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


def media(n: int = 1) -> tuple[ProcessedMedia, ...]:
    return tuple(
        process_upload(photo((10 * i, 80, 160)), "image/png", f"p{i}.png", MediaLimits())
        for i in range(n)
    )


def files(storage: LocalStorage) -> list[Path]:
    if not storage.root.exists():
        return []
    return sorted(p for p in storage.root.rglob("*") if p.is_file())


async def test_submission_stores_a_file_and_a_thumbnail_per_photo(
    sapa: dict[str, Any], storage: LocalStorage
) -> None:
    data = new_input(sapa, media=media(2))
    async with scoped_transaction(sapa["citizen"]):
        result = await submit_report(sapa["citizen"], data, storage)
    async with scoped_transaction(sapa["operator"]):
        rows = await Attachment.filter(report_id=result.report.id).order_by("storage_key")
    assert len(rows) == 2 and len(files(storage)) == 4
    tenant = str(sapa["tenant"].id)
    for row in rows:
        assert row.event_id is None and row.kind == "image" and row.content_type == "image/png"
        assert row.storage_key.startswith(f"{tenant}/") and row.storage_key.endswith(".png")
        assert row.thumbnail_key.startswith(f"{tenant}/") and "-thumb" in row.thumbnail_key
        stored = await storage.read(row.storage_key)
        assert len(stored) == row.size and Image.open(io.BytesIO(stored)).size == (64, 48)
        assert await storage.exists(row.thumbnail_key)
    # An idempotent retry returns the first report and stores nothing again.
    async with scoped_transaction(sapa["citizen"]):
        again = await submit_report(sapa["citizen"], data, storage)
    assert not again.created and again.report.id == result.report.id
    assert len(files(storage)) == 4
    async with scoped_transaction(sapa["operator"]):
        assert await Attachment.filter(report_id=result.report.id).count() == 2


async def test_failed_submission_leaves_no_file_and_no_row(
    sapa: dict[str, Any], storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[str] = []
    original_save = storage.save

    async def spy(key: str, data: bytes, content_type: str) -> None:
        await original_save(key, data, content_type)
        written.append(key)

    async def boom(*args: Any, **kwargs: Any) -> None:
        assert len(files(storage)) == 4  # the files were written before the event insert
        raise RuntimeError("database went away")

    monkeypatch.setattr(storage, "save", spy)
    # The statement that writes the report, its attachments and its event fails.
    monkeypatch.setattr(Batch, "execute", boom)
    data = new_input(sapa, media=media(2))
    with pytest.raises(RuntimeError, match="went away"):
        async with scoped_transaction(sapa["citizen"]):
            await submit_report(sapa["citizen"], data, storage)
    monkeypatch.undo()
    assert len(written) == 4 and files(storage) == []
    async with scoped_transaction(sapa["operator"]):
        assert not await Report.exists(idempotency_key=data.idempotency_key)
    # The same submission succeeds afterwards, with its files.
    async with scoped_transaction(sapa["citizen"]):
        result = await submit_report(sapa["citizen"], data, LocalStorage(storage.root))
    assert result.created and len(files(storage)) == 4


async def test_storage_failure_midway_deletes_what_was_written(
    sapa: dict[str, Any], storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    original_save = storage.save
    calls = 0

    async def flaky(key: str, data: bytes, content_type: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise OSError("disk full")
        await original_save(key, data, content_type)

    monkeypatch.setattr(storage, "save", flaky)
    data = new_input(sapa, media=media(2))
    with pytest.raises(OSError, match="disk full"):
        async with scoped_transaction(sapa["citizen"]):
            await submit_report(sapa["citizen"], data, storage)
    assert calls == 3 and files(storage) == []


async def test_row_failure_in_store_media_deletes_its_files(
    sapa: dict[str, Any], storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with scoped_transaction(sapa["citizen"]):
        report = (await submit_report(sapa["citizen"], new_input(sapa))).report

    async def broken(self: Attachment, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("insert failed")

    monkeypatch.setattr(attachments_module.Attachment, "save", broken)
    with pytest.raises(RuntimeError, match="insert failed"):
        async with scoped_transaction(sapa["operator"]):
            await store_media(sapa["operator"], report.id, media(1), storage)
    assert files(storage) == []


async def test_media_refusals(sapa: dict[str, Any], storage: LocalStorage) -> None:
    cases = [
        (new_input(sapa, media=media(1)), None, "STORAGE_UNAVAILABLE"),
        (new_input(sapa, media=media(6)), storage, "TOO_MANY_ATTACHMENTS"),
    ]
    for data, where, code in cases:
        with pytest.raises(DomainError) as error:
            async with scoped_transaction(sapa["citizen"]):
                await submit_report(sapa["citizen"], data, where)
        assert error.value.code == code and error.value.field == "attachments"
        async with scoped_transaction(sapa["operator"]):
            assert not await Report.exists(idempotency_key=data.idempotency_key)
    assert files(storage) == []


async def test_after_photos_belong_to_the_result_event(
    sapa: dict[str, Any], storage: LocalStorage
) -> None:
    report = await in_progress(sapa)
    with pytest.raises(DomainError) as error:
        await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="x", media=media(1))
    assert error.value.code == "STORAGE_UNAVAILABLE"
    result = await step(
        sapa["handler"],
        report,
        A.SUBMIT_RESULT,
        comment="Đã dọn sạch.",
        media=media(1),
        storage=storage,
    )
    assert result.state == "RESULT_SUBMITTED"
    async with scoped_transaction(sapa["operator"]):
        event = await ReportEvent.get(report_id=report.id, action="SUBMIT_RESULT")
        [row] = await Attachment.filter(report_id=report.id)
    assert row.event_id == event.id and len(files(storage)) == 2
    # A retry of the same step is stale before anything is stored.
    with pytest.raises(DomainError) as error:
        await step(
            sapa["handler"], report, A.SUBMIT_RESULT, comment="x", media=media(1), storage=storage
        )
    assert error.value.code == "STALE_VERSION" and len(files(storage)) == 2


async def test_media_only_on_steps_that_take_it(
    sapa: dict[str, Any], storage: LocalStorage
) -> None:
    async with scoped_transaction(sapa["citizen"]):
        report = (await submit_report(sapa["citizen"], new_input(sapa))).report
    with pytest.raises(DomainError) as error:
        async with scoped_transaction(sapa["operator"]):
            await transition(
                sapa["operator"],
                report.id,
                A.ASSIGN,
                report.version,
                assign=AssignInput(sapa["health"].id),
                media=media(1),
                storage=storage,
            )
    assert error.value.code == "MEDIA_NOT_ALLOWED" and files(storage) == []


async def test_comment_with_a_photo(sapa: dict[str, Any], storage: LocalStorage) -> None:
    async with scoped_transaction(sapa["citizen"]):
        report = (await submit_report(sapa["citizen"], new_input(sapa))).report
    async with scoped_transaction(sapa["citizen"]):
        event = await add_comment(
            sapa["citizen"], report.id, "Ảnh mới chụp.", True, media=media(1), storage=storage
        )
    async with scoped_transaction(sapa["operator"]):
        [row] = await Attachment.filter(report_id=report.id)
    assert row.event_id == event.id and len(files(storage)) == 2

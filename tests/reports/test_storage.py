"""Local file storage: round trips, atomic writes and key validation."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from reports import storage as storage_module
from reports.storage import LocalStorage, Storage, make_key, validate_key

TENANT = UUID("11111111-1111-4111-8111-111111111111")
OBJECT = UUID("22222222-2222-4222-8222-222222222222")


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


def key() -> str:
    return make_key(TENANT, uuid4(), "jpg")


async def test_round_trip(store: LocalStorage) -> None:
    k = key()
    assert isinstance(store, Storage)
    assert not await store.exists(k)
    await store.save(k, b"\xff\xd8\xffdata", "image/jpeg")
    assert await store.exists(k)
    assert await store.read(k) == b"\xff\xd8\xffdata"
    assert (store.root / k).read_bytes() == b"\xff\xd8\xffdata"


async def test_overwrite_is_atomic_and_leaves_no_temp_files(store: LocalStorage) -> None:
    k = key()
    await store.save(k, b"old", "image/jpeg")
    await store.save(k, b"new" * 1000, "image/jpeg")
    assert await store.read(k) == b"new" * 1000
    assert os.listdir((store.root / k).parent) == [k.rsplit("/", 1)[1]]


async def test_failed_write_keeps_old_content(
    store: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    k = key()
    await store.save(k, b"old", "image/jpeg")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(storage_module.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        await store.save(k, b"new", "image/jpeg")
    monkeypatch.undo()
    assert await store.read(k) == b"old"
    assert os.listdir((store.root / k).parent) == [k.rsplit("/", 1)[1]]


async def test_delete_is_idempotent(store: LocalStorage) -> None:
    k = key()
    await store.save(k, b"x", "image/jpeg")
    await store.delete(k)
    assert not await store.exists(k)
    await store.delete(k)  # again: no error
    await store.delete(key())  # never existed, directory missing too
    with pytest.raises(FileNotFoundError):
        await store.read(k)


@pytest.mark.parametrize(
    "bad",
    [
        "../secret.jpg",
        "a/../../etc/passwd",
        "a/..",
        "/etc/passwd",
        "a\\..\\b.jpg",
        "C:\\x.jpg",
        "",
        "a//b.jpg",
        "./a.jpg",
        "a/.hidden",
        "a/b.jpg\x00.png",
    ],
)
async def test_path_traversal_and_odd_keys_are_refused(store: LocalStorage, bad: str) -> None:
    with pytest.raises(ValueError):
        await store.save(bad, b"x", "image/jpeg")
    for call in (store.read, store.delete, store.exists):
        with pytest.raises(ValueError):
            await call(bad)
    assert not (store.root.parent / "secret.jpg").exists()


async def test_symlink_out_of_root_is_refused(store: LocalStorage, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    store.root.mkdir(parents=True)
    (store.root / "evil").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ValueError, match="escapes"):
        await store.save("evil/x.jpg", b"x", "image/jpeg")
    assert not (outside / "x.jpg").exists()


def test_make_key_layout() -> None:
    when = datetime(2026, 11, 3, 23, 30, tzinfo=UTC)
    assert make_key(TENANT, OBJECT, "jpg", now=when) == f"{TENANT}/2026/11/{OBJECT}.jpg"
    assert make_key(TENANT, OBJECT, ".JPG", "thumb", now=when) == (
        f"{TENANT}/2026/11/{OBJECT}-thumb.jpg"
    )
    # Folders follow the UTC date, not the local one (Vietnam is UTC+7).
    hanoi = datetime(2026, 12, 1, 5, 0, tzinfo=timezone(timedelta(hours=7)))
    assert make_key(TENANT, OBJECT, "png", now=hanoi).startswith(f"{TENANT}/2026/11/")


def test_make_key_defaults_to_current_utc_month() -> None:
    k = make_key(TENANT, OBJECT, "webm")
    assert re.fullmatch(rf"{TENANT}/\d{{4}}/\d{{2}}/{OBJECT}\.webm", k)
    assert validate_key(k) == k


@pytest.mark.parametrize(("extension", "variant"), [("../jpg", ""), ("", ""), ("jpg", "a/b")])
def test_make_key_refuses_bad_parts(extension: str, variant: str) -> None:
    with pytest.raises(ValueError):
        make_key(TENANT, OBJECT, extension, variant)

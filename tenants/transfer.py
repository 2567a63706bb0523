"""Moving one tenant's whole data to another PAHT installation (issue 15, item 5).

``export_tenant`` writes a directory: one JSON-lines file per table (``tables/<table>.jsonl``,
rows as PostgreSQL's own ``row_to_json``), the stored files (``files/<storage key>``) and
``manifest.json`` with the row count and SHA-256 of every table file and every stored file.
``import_tenant`` verifies the whole directory first (checksums, counts, the tenant code is free,
every column exists here), then writes everything in one transaction bound to the new tenant
(row-level security as for onboarding, no policy weakened, one audited step); stored files are
written before the commit and deleted again if it fails.

Every table with a ``tenant_id`` is either in ``EXPORTED`` or in ``SKIPPED`` with its reason
(tests/tenants/test_transfer.py checks it against the database, as the merge's lists are).
Derived statistics are skipped: importing the reports' history marks every report for the
statistics fold again (the report_event trigger), and ``paht stats rebuild`` rebuilds them.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from accounts.credentials import set_password_hash
from accounts.password_policy import generate_password
from accounts.passwords import hash_password
from core.errors import DomainError
from permissions.session import tenant_transaction
from permissions.templates import TENANT_ADMIN
from tenants.models import Tenant, TenantStatus

log = logging.getLogger("paht.audit")

FORMAT = "paht-tenant-export/1"

# In insert order (one statement, so composite foreign keys are checked once all are in).
EXPORTED = (
    "tenant_settings", "agency", "field", "role", "casbin_rule", "membership",
    "staff_preference", "report_counter", "report", "reporter_contact", "report_event",
    "attachment", "extension_request", "info_request", "notification", "notification_read",
    "reporter_identity_view", "webhook_endpoint", "outbox_settings", "outbox_template",
    "open311_client", "citizen_profile", "citizen_code", "stats_pilot", "tenant_merge_step",
)  # fmt: skip

SKIPPED = {
    "auth_session": "sessions of the old installation: people sign in again",
    "refresh_token": "sessions of the old installation: people sign in again",
    "outbox_message": "the old installation's delivery queue: nothing is re-sent",
    "report_count": "derived: kept by the report table's own trigger on import",
    "stats_dirty": "derived: importing the history marks every report again",
    "stats_report": "derived statistics: `paht stats rebuild` after import",
    "stats_day": "derived statistics: `paht stats rebuild` after import",
    "stats_stage_time": "derived statistics: `paht stats rebuild` after import",
    "stats_month": "derived: kept by the stats_day triggers when the statistics are rebuilt",
    "stats_stage_month": "derived: kept by the stats_stage_time triggers on rebuild",
    "stats_export": "generated evaluation files: export the evaluation again",
    "report_forward": "points at tenants of this installation (reports moved in a split)",
    "external_login_nonce": "logins started on the old installation: they expire in minutes",
}

# Shared rows that travel with the tenant: its own row, its accounts, its units.
SHARED = ("tenant", "app_user", "administrative_unit")

# Columns holding storage keys of files that travel with the rows.
FILE_COLUMNS = {"attachment": ("storage_key", "thumbnail_key")}


class FileStore(Protocol):
    """What the transfer needs of reports.storage.Storage (wired by the command)."""

    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def read(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


@dataclass
class TransferResult:
    code: str
    rows: dict[str, int]
    files: int
    cut_transfers: int = 0  # transfer links to localities this installation does not hold
    cut_accounts: int = 0  # links to accounts of other localities (USER_LINKS)
    # username -> one-time password of each tenant administrator (imported without one)
    passwords: dict[str, str] = field(default_factory=dict)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _invalid(code: str, vi: str, en: str) -> DomainError:
    return DomainError(code, vi, en, field="directory")


async def _rows(conn: BaseDBAsyncClient, sql: str, args: list[Any] | None = None) -> list[str]:
    return [r["j"] for r in await conn.execute_query_dict(sql, args or [])]


def _empty_dir(out: Path) -> bool:
    out.mkdir(parents=True, exist_ok=True)
    return not any(out.iterdir())


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


async def _read_tables(tenant_id: uuid.UUID) -> dict[str, list[str]]:
    tables: dict[str, list[str]] = {}
    async with tenant_transaction(tenant_id) as conn:
        tables["tenant"] = await _rows(
            conn, "SELECT row_to_json(t)::text AS j FROM tenant t WHERE id = $1", [tenant_id]
        )
        # the tenant's own accounts (home tenant); credentials stay behind (unreadable here)
        tables["app_user"] = await _rows(
            conn,
            "SELECT row_to_json(t)::text AS j FROM app_user t WHERE default_tenant_id = $1",
            [tenant_id],
        )
        # the tenant's units, every version (the registry is shared: added where missing)
        tables["administrative_unit"] = await _rows(
            conn,
            "SELECT row_to_json(u)::text AS j FROM administrative_unit u"
            " WHERE u.code = ANY ((SELECT unit_codes FROM tenant WHERE id = $1)::text[])"
            " ORDER BY 1",
            [tenant_id],
        )
        for table in EXPORTED:
            # only the tenant's own rows (shared ones, tenant_id NULL, are visible too)
            tables[table] = await _rows(
                conn,
                f"SELECT row_to_json(t)::text AS j FROM {table} t WHERE tenant_id = $1 ORDER BY 1",
                [tenant_id],
            )
    return tables


async def export_tenant(
    code: str, out: Path, files: FileStore, *, allow_missing_files: bool = False
) -> TransferResult:
    """Write the tenant's data under ``out`` (created; must be empty). A stored file the rows
    name but the storage no longer holds stops the export (MISSING_FILES), unless
    ``allow_missing_files``: then its key is listed in the manifest's ``missing_files``."""
    tenant = await Tenant.get_or_none(code=code)
    if tenant is None:
        raise DomainError("NOT_FOUND", "Không tìm thấy đơn vị.", "Tenant not found.", "tenant")
    if tenant.status == TenantStatus.MERGED:
        raise _invalid(
            "TENANT_MERGED",
            "Đơn vị đã sáp nhập: dữ liệu nằm ở đơn vị kế thừa.",
            "The tenant was merged: its records are held by its successor.",
        )
    if not await asyncio.to_thread(_empty_dir, out):
        raise _invalid(
            "NOT_EMPTY", "Thư mục xuất phải trống.", "The export directory must be empty."
        )
    tables: dict[str, list[str]] = {}
    # one snapshot for every table (the tenant keeps working while it is exported)
    async with in_transaction() as outer:
        await outer.execute_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        tables.update(await _read_tables(tenant.id))
    homes = {json.loads(u)["id"] for u in tables["app_user"]}

    # memberships and role grants of people from elsewhere (the province) do not travel
    def foreign(table: str, row: dict[str, Any]) -> bool:
        if table == "membership":
            return row["user_id"] not in homes
        return row["ptype"] == "g" and row["v0"] not in homes

    left_out: dict[str, list[str]] = {"membership": [], "casbin_rule": []}
    for table, kept in left_out.items():
        rows = tables[table]
        tables[table] = [r for r in rows if not foreign(table, json.loads(r))]
        kept.extend(r for r in rows if foreign(table, json.loads(r)))
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "tenant": {"code": tenant.code, "id": str(tenant.id)},
        "tables": {},
        "files": {},
        "skipped": SKIPPED,
        "left_out": {t: len(rows) for t, rows in left_out.items()},
        "missing_files": [],
    }
    for table, rows in tables.items():
        data = "".join(f"{r}\n" for r in rows).encode()
        await asyncio.to_thread(_write, out / "tables" / f"{table}.jsonl", data)
        manifest["tables"][table] = {"rows": len(rows), "sha256": _sha256(data)}
    for table, columns in FILE_COLUMNS.items():
        for row in map(json.loads, tables[table]):
            for key in filter(None, (row[c] for c in columns)):
                try:
                    data = await files.read(key)
                except FileNotFoundError:
                    manifest["missing_files"].append(key)
                    continue
                await asyncio.to_thread(_write, out / "files" / key, data)
                manifest["files"][key] = {
                    "sha256": _sha256(data),
                    "bytes": len(data),
                    "content_type": row.get("content_type") or "application/octet-stream",
                }
    if manifest["missing_files"] and not allow_missing_files:
        raise _invalid(
            "MISSING_FILES",
            f"{len(manifest['missing_files'])} tệp đã lưu không còn trong kho lưu trữ.",
            f"{len(manifest['missing_files'])} stored files are no longer in the storage "
            "(export with --allow-missing-files to list them in the manifest instead).",
        )
    text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
    await asyncio.to_thread(_write, out / "manifest.json", text.encode())
    log.info("tenant export", extra={"tenant": tenant.code, "files": len(manifest["files"])})
    return TransferResult(
        tenant.code, {t: len(r) for t, r in tables.items()}, len(manifest["files"])
    )


def _verified(directory: Path) -> tuple[dict[str, Any], dict[str, list[str]], dict[str, bytes]]:
    """Read the whole export and check every checksum and count; raise before anything is
    written."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        raise _invalid(
            "INVALID_EXPORT", "Không đọc được tệp kê khai.", "The manifest cannot be read."
        ) from None
    if manifest.get("format") != FORMAT:
        raise _invalid("INVALID_EXPORT", "Định dạng xuất không hỗ trợ.", "Unsupported format.")
    bad: list[str] = []
    tables: dict[str, list[str]] = {}
    for table, entry in manifest["tables"].items():
        if table not in {*SHARED, *EXPORTED}:
            bad.append(f"tables/{table}.jsonl")
            continue
        path = directory / "tables" / f"{table}.jsonl"
        data = path.read_bytes() if path.is_file() else b""
        rows = data.decode().splitlines()
        if _sha256(data) != entry["sha256"] or len(rows) != entry["rows"]:
            bad.append(f"tables/{table}.jsonl")
        tables[table] = rows
    blobs: dict[str, bytes] = {}
    for key, entry in manifest["files"].items():
        path = (directory / "files" / key).resolve()
        ok = path.is_relative_to((directory / "files").resolve()) and path.is_file()
        data = path.read_bytes() if ok else b""
        if not ok or _sha256(data) != entry["sha256"]:
            bad.append(f"files/{key}")
        blobs[key] = data
    if bad or len(tables.get("tenant", [])) != 1:
        listed = ", ".join(bad) or "tables/tenant.jsonl"
        raise _invalid(
            "CHECKSUM_MISMATCH",
            f"Dữ liệu xuất bị hỏng hoặc đã bị sửa: {listed}.",
            f"The export is damaged or was altered: {listed}.",
        )
    return manifest, tables, blobs


async def _columns(conn: BaseDBAsyncClient, table: str) -> set[str]:
    rows = await conn.execute_query_dict(
        "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0"
        " AND NOT attisdropped AND attgenerated = ''",
        [table],
    )
    return {r["attname"] for r in rows}


async def import_tenant(directory: Path, files: FileStore) -> TransferResult:
    """Load an export made by ``export_tenant``; nothing is written unless all of it is sound
    and the tenant code (and id) are free here."""
    manifest, tables, blobs = await asyncio.to_thread(_verified, directory)
    tenant_row = json.loads(tables["tenant"][0])
    tenant_id = uuid.UUID(tenant_row["id"])
    if (
        await Tenant.filter(id=tenant_id).exists()
        or await Tenant.filter(code=tenant_row["code"]).exists()
    ):
        raise DomainError(
            "TENANT_EXISTS",
            f"Mã đơn vị `{tenant_row['code']}` đã có trong hệ thống này.",
            f"Tenant code {tenant_row['code']} already exists here.",
            field="tenant",
        )
    tables["report"], cut = await _cut_foreign_transfers(tables.get("report", []), tenant_id)
    cut_accounts = _cut_foreign_accounts(tables)
    status = tenant_row["status"]
    tenant_row.update(status=TenantStatus.ACTIVE.value, successor_id=None)
    counts = {t: len(r) for t, r in tables.items()}
    written: list[str] = []
    log.info("tenant import", extra={"tenant": tenant_row["code"], "from": str(directory)})
    try:
        async with tenant_transaction(tenant_id) as conn:
            for key, data in blobs.items():
                written.append(key)
                await files.save(key, data, manifest["files"][key]["content_type"])
            if tables.get("administrative_unit"):
                await _add_units(conn, tables["administrative_unit"])
            await _insert(conn, {"tenant": [json.dumps(tenant_row)]})
            await _insert(conn, {"app_user": tables["app_user"]})
            await _insert(conn, {t: tables[t] for t in EXPORTED if tables.get(t)})
            # the step log the merge writes, in the tenant: what was imported, from where
            await conn.execute_query(
                "INSERT INTO tenant_merge_step (id, tenant_id, merge_key, source_id, step, counts,"
                " done_at) VALUES (gen_random_uuid(), $1, $2, $1, 'imported', $3::jsonb, now())",
                [tenant_id, f"import:{directory.name}"[:200], json.dumps(counts)],
            )
            passwords = await _first_passwords(conn, tables["app_user"])
            if status != TenantStatus.ACTIVE.value:
                await conn.execute_query(
                    "UPDATE tenant SET status = $1 WHERE id = $2", [status, tenant_id]
                )
    except BaseException:
        for key in written:
            await files.delete(key)
        raise
    return TransferResult(tenant_row["code"], counts, len(blobs), cut, cut_accounts, passwords)


async def _first_passwords(conn: BaseDBAsyncClient, users: list[str]) -> dict[str, str]:
    """Password hashes stay in the old installation; the tenant's administrators get a one-time
    password (changed at the first login), and set the others' with resetUserPassword."""
    names = {row["id"]: row["username"] for row in map(json.loads, users)}
    admins = await conn.execute_query_dict(
        "SELECT DISTINCT user_id FROM membership WHERE role = $1 AND active", [TENANT_ADMIN]
    )
    passwords = {}
    for row in admins:
        username = names.get(str(row["user_id"]))
        if username is None:
            continue
        password = generate_password(username)
        digest = await asyncio.to_thread(hash_password, password)
        await set_password_hash(row["user_id"], digest, must_change=True)
        passwords[username] = password
    return passwords


# Accounts a row may name that do not travel with the tenant (a report transferred in from
# another locality names its signed-in reporter, whose account lives there): the link is cut,
# the row kept (the report keeps its contact and tracking code). Only nullable columns here.
USER_LINKS = {"report": ("reporter_user_id", "assignee_user_id")}


def _cut_foreign_accounts(tables: dict[str, list[str]]) -> int:
    """Null the links of ``USER_LINKS`` to accounts the export does not hold; how many."""
    homes = {json.loads(u)["id"] for u in tables.get("app_user", [])}
    cut = 0
    for table, columns in USER_LINKS.items():
        parsed = [json.loads(r) for r in tables.get(table, [])]
        before = cut
        for row in parsed:
            for column in columns:
                if row.get(column) and row[column] not in homes:
                    row[column] = None
                    cut += 1
        if cut > before:
            tables[table] = [json.dumps(r, ensure_ascii=False) for r in parsed]
    return cut


async def _cut_foreign_transfers(rows: list[str], tenant_id: uuid.UUID) -> tuple[list[str], int]:
    """A report transferred to or from a locality this installation does not hold keeps the
    other side's report code, but not the pointer to a tenant that is not here."""
    columns = ("transferred_to_tenant_id", "transferred_from_tenant_id")
    parsed = [json.loads(r) for r in rows]
    named = {r[c] for r in parsed for c in columns if r.get(c)} - {str(tenant_id)}
    here = {str(t) for t in await Tenant.filter(id__in=list(named)).values_list("id", flat=True)}
    cut = 0
    for row in parsed:
        for column in columns:
            if row.get(column) and row[column] != str(tenant_id) and row[column] not in here:
                row[column] = None
                cut += 1
    if not cut:
        return rows, 0
    return [json.dumps(r, ensure_ascii=False) for r in parsed], cut


async def _add_units(conn: BaseDBAsyncClient, rows: list[str]) -> None:
    """Units this installation lacks (same id, or same code and start); existing definitions
    are never rewritten, as in onboarding."""
    cols = ", ".join(f'"{c}"' for c in sorted(json.loads(rows[0])))
    await conn.execute_query(
        f"INSERT INTO administrative_unit ({cols}) SELECT {cols} FROM"
        " json_populate_recordset(NULL::administrative_unit, $1::json) j WHERE NOT EXISTS"
        " (SELECT 1 FROM administrative_unit u WHERE u.id = j.id OR (u.code = j.code"
        " AND u.valid_from IS NOT DISTINCT FROM j.valid_from))",
        ["[" + ",".join(rows) + "]"],
    )


async def _insert(conn: BaseDBAsyncClient, tables: dict[str, list[str]]) -> None:
    """All the tables in one statement (data-modifying CTEs), each from its JSON lines."""
    parts, args = [], []
    for table, rows in tables.items():
        if not rows:
            continue
        present = await _columns(conn, table)
        wanted = sorted(json.loads(rows[0]))
        missing = set(wanted) - present
        if missing:
            raise _invalid(
                "SCHEMA_MISMATCH",
                f"Bảng `{table}` của hệ thống này thiếu cột: {', '.join(sorted(missing))}.",
                f"Table {table} here lacks columns: {', '.join(sorted(missing))}.",
            )
        cols = ", ".join(f'"{c}"' for c in wanted)
        args.append("[" + ",".join(rows) + "]")
        parts.append(
            f"i_{table} AS (INSERT INTO {table} ({cols}) SELECT {cols} FROM "
            f"json_populate_recordset(NULL::{table}, ${len(args)}::json) RETURNING 1)"
        )
    if parts:
        await conn.execute_query("WITH " + ", ".join(parts) + " SELECT 1", args)

#!/usr/bin/env python3
"""Seed PAHT's own schema at scale for the side-by-side benchmark (bench/README.md).

Server-side generation (INSERT ... SELECT FROM generate_series), one transaction per tenant, run
as the *owner* role after `migrate`: FORCE row-level security applies to the owner too, so every
tenant's rows are written with ``app.tenant_id`` set to that tenant, exactly as the API would.
RLS, grants, constraints and foreign keys stay in place (nothing is disabled).

Each tenant is onboarded the way ``tenants.onboarding.onboard`` would leave it: the tenant row,
tenant_settings, ~10 agencies (one coordination centre), 8 fields with default agencies, the role
templates (``role`` rows + casbin ``p`` rules as ``permissions.service.install_templates`` writes
them), one operator user with a membership and a casbin ``g`` rule granting ``intake_operator``,
and a report_counter row above the seeded codes. Then reports (UUIDv7 ids built from created_at,
18 months of history, realistic state mix, lead agency for assigned ones), ~5 events per report
and attachments for about a third of them. VACUUM ANALYZE at the end.

  python bench/seed_paht.py                           # 50 tenants, 1,000,000 reports, embedded PG
  python bench/seed_paht.py --tenants 2 --reports 10000 --drop
  DATABASE_OWNER_URL=postgresql://paht_owner@host/paht python bench/seed_paht.py ...

DSN: DATABASE_OWNER_URL when set, else the embedded server under .paht/bench (database
paht_bench; `--drop` recreates that database first).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATES_OLD = [  # (state, cumulative probability) for reports older than ~45 days
    ("CLOSED", 0.55),
    ("RESOLVED", 0.67),
    ("REJECTED", 0.77),
    ("DUPLICATE", 0.81),
    ("WITHDRAWN", 0.84),
    ("IN_PROGRESS", 0.90),
    ("ASSIGNED", 0.93),
    ("RESULT_SUBMITTED", 0.95),
    ("SUBMITTED", 0.97),
    ("NEED_INFO", 0.98),
    ("RETURNED", 0.99),
    ("REOPENED", 1.0),
]
STATES_NEW = [  # recent reports: mostly still open
    ("SUBMITTED", 0.22),
    ("NEED_INFO", 0.27),
    ("ASSIGNED", 0.42),
    ("RETURNED", 0.45),
    ("IN_PROGRESS", 0.70),
    ("RESULT_SUBMITTED", 0.78),
    ("RESOLVED", 0.86),
    ("CLOSED", 0.90),
    ("REJECTED", 0.95),
    ("DUPLICATE", 0.97),
    ("WITHDRAWN", 0.98),
    ("REOPENED", 1.0),
]
ASSIGNED_STATES = ("ASSIGNED", "IN_PROGRESS", "RESULT_SUBMITTED", "RESOLVED", "CLOSED", "REOPENED")
FIELDS = [
    ("giao-thong", "Giao thông", "Transport", 0),
    ("moi-truong", "Môi trường", "Environment", 1),
    ("trat-tu-do-thi", "Trật tự đô thị", "Urban order", 2),
    ("dien-chieu-sang", "Điện chiếu sáng", "Street lighting", 3),
    ("cap-thoat-nuoc", "Cấp thoát nước", "Water and drainage", 4),
    ("an-toan-thuc-pham", "An toàn thực phẩm", "Food safety", 5),
    ("an-ninh-trat-tu", "An ninh trật tự", "Public security", 6),
    ("thien-tai", "Thiên tai", "Natural disasters", 7),
]
AGENCIES = [
    ("ttdh", "Trung tâm Điều hành", "Coordination Centre", "centre", True),
    ("qlđt", "Phòng Quản lý đô thị", "Urban Management Office", "department", False),
    (
        "tnmt",
        "Phòng Tài nguyên và Môi trường",
        "Natural Resources and Environment",
        "department",
        False,
    ),
    ("ca", "Công an thị xã", "Town Police", "police", False),
    ("yte", "Phòng Y tế", "Health Office", "department", False),
    ("ktht", "Phòng Kinh tế - Hạ tầng", "Economy and Infrastructure", "department", False),
    ("dien", "Điện lực", "Power Company", "company", False),
    ("nuoc", "Công ty Cấp nước", "Water Company", "company", False),
    ("ubnd-p1", "UBND Phường 1", "Ward 1 People's Committee", "commune", False),
    ("ubnd-x2", "UBND Xã 2", "Commune 2 People's Committee", "commune", False),
]
FIELD_AGENCY = [1, 2, 1, 6, 7, 4, 3, 5]  # default agency index per field
TITLES = [
    "Ổ gà trên đường",
    "Đèn đường hỏng",
    "Rác thải bừa bãi",
    "Lấn chiếm vỉa hè",
    "Cống thoát nước tắc",
    "Cây đổ chắn đường",
    "Ngập úng sau mưa",
    "Tiếng ồn ban đêm",
    "Sạt lở taluy",
    "Vi phạm an toàn thực phẩm",
    "Biển báo bị mất",
    "Nước sinh hoạt bị đục",
]
STREETS = [
    "Cầu Mây",
    "Xuân Viên",
    "Thạch Sơn",
    "Ngũ Chỉ Sơn",
    "Điện Biên Phủ",
    "Lê Văn Tám",
    "Fansipan",
    "Mường Hoa",
    "Hoàng Liên",
    "Phạm Xuân Huân",
    "Đồng Lợi",
    "Violet",
]
SENTENCES = [
    "Tình trạng kéo dài khoảng một tuần nay.",
    "Rất nguy hiểm cho người đi xe máy buổi tối.",
    "Nhiều hộ dân xung quanh đã phản ánh.",
    "Đề nghị cơ quan chức năng sớm xử lý.",
    "Sau trận mưa lớn vừa rồi tình trạng nặng hơn.",
    "Trẻ em đi học qua đây hằng ngày.",
    "Tôi gửi kèm ảnh chụp sáng nay.",
    "Vị trí ngay cạnh điểm dừng xe buýt.",
]

UUID7_FN = """
CREATE OR REPLACE FUNCTION pg_temp.uuid7_at(ts timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
  SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
           PLACING substring(int8send(floor(extract(epoch FROM ts) * 1000)::bigint) FROM 3)
           FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid
$$;
"""


def arr(items: list[str]) -> str:
    return "ARRAY[" + ",".join("'" + s.replace("'", "''") + "'" for s in items) + "]::text[]"


def case_state(var: str, table: list[tuple[str, float]]) -> str:
    return (
        "CASE "
        + " ".join(f"WHEN {var} < {p} THEN '{s}'" for s, p in table[:-1])
        + f" ELSE '{table[-1][0]}' END"
    )


async def owner_dsn(args, *, run_migrations: bool = True) -> tuple[str, object | None]:
    url = os.environ.get("DATABASE_OWNER_URL")
    if url:
        return url.replace("asyncpg://", "postgresql://", 1), None
    from api.database import drop_database, ensure_roles_and_database, migrate, start_embedded

    server, urls = start_embedded(ROOT / ".paht" / "bench", database=args.database)
    if args.drop:
        drop_database(server, args.database)
        ensure_roles_and_database(server, args.database)
    if run_migrations:
        t = time.time()
        await migrate(urls.owner)
        print(f"[migrate] {time.time() - t:.1f}s")
    return urls.owner.replace("asyncpg://", "postgresql://", 1), server


async def add_user(con, tid, t: int, kind: str, role: str) -> object:
    """A user of tenant number ``t`` holding ``role`` (membership + casbin g rule), idempotent.
    Runs inside a transaction with app.tenant_id set to ``tid``."""
    username = f"bench{t:03d}.{kind}"
    uid = await con.fetchval("SELECT id FROM app_user WHERE username = $1", username)
    if uid is not None:
        return uid
    uid = await con.fetchval(
        "INSERT INTO app_user (id, username, full_name, email, is_active,"
        " default_tenant_id, created_at, updated_at) VALUES (pg_temp.uuid7_at(now()), $1,"
        " $2, $3, true, $4, now(), now()) RETURNING id",
        username,
        f"{role} {t}",
        f"{kind}{t}@bench.example",
        tid,
    )
    await con.execute(
        "INSERT INTO membership (id, tenant_id, user_id, role, agency_id, field_id, active, created_at)"
        " VALUES (pg_temp.uuid7_at(now()), $1, $2, $3, NULL, NULL, true, now())",
        tid,
        uid,
        role,
    )
    await con.execute(
        "INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1, v2, v3, v4, v5)"
        " VALUES (pg_temp.uuid7_at(now()), $1, 'g', $2, $3, $4, '*', '*', '')",
        tid,
        str(uid),
        role,
        str(tid),
    )
    return uid


async def add_supervisors(args) -> None:
    """--add-supervisors: give every bench tenant of an existing seed its centre_supervisor."""
    dsn, server = await owner_dsn(args, run_migrations=False)
    con = await asyncpg.connect(dsn)
    await con.execute(UUID7_FN)
    tenants = await con.fetch("SELECT id, code FROM tenant WHERE code LIKE 'bench-%' ORDER BY code")
    for row in tenants:
        async with con.transaction():
            await con.execute("SELECT set_config('app.tenant_id', $1, true)", str(row["id"]))
            await add_user(
                con, row["id"], int(row["code"].split("-")[1]), "supervisor", "centre_supervisor"
            )
    await con.close()
    print(f"supervisors: {len(tenants)} tenants")
    if server is not None:
        server.cleanup()


async def seed(args) -> None:
    from permissions.templates import TENANT_TEMPLATES

    dsn, server = await owner_dsn(args)
    con = await asyncpg.connect(dsn)
    t0 = time.time()

    def step(msg: str) -> None:
        print(f"[{time.time() - t0:7.1f}s] {msg}", flush=True)

    if await con.fetchval("SELECT count(*) FROM tenant WHERE code LIKE 'bench-%'"):
        raise SystemExit("bench tenants exist already: use --drop (embedded) or a fresh database")
    await con.execute(UUID7_FN)
    await con.execute("SELECT setseed(0.42)")
    T, R, E = args.tenants, args.reports // args.tenants, args.events_per_report
    months = args.months

    tenant_ids = []
    for t in range(1, T + 1):
        tid = await con.fetchval("SELECT pg_temp.uuid7_at(now() - interval '2 years')")
        tenant_ids.append(tid)
        prefix = "B" + chr(65 + (t - 1) // 26 % 26) + chr(65 + (t - 1) % 26)
        await con.execute(
            "INSERT INTO tenant (id, code, report_prefix, name_vi, name_en, status, parent_organisation,"
            " province_code, unit_codes, policy_version, created_at, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, 'active', 'UBND tỉnh Bench', '99', '{}', 1, now(), now())",
            tid,
            f"bench-{t:03d}",
            prefix,
            f"UBND Huyện Bench {t}",
            f"Bench District {t} People's Committee",
        )
    step(f"{T} tenants")

    roles_rows = [
        (tpl.code, tpl.name_vi, tpl.name_en, [str(a) for a in tpl.actions])
        for tpl in TENANT_TEMPLATES
    ]
    report_sql = f"""
      INSERT INTO report (id, tenant_id, code, title, description, field_id, lead_agency_id,
        coordinating_agency_ids, unit_code, latitude, longitude, address, urgency, state, version,
        reporter_user_id, anonymous, tracking_code, idempotency_key, sla_version, screen_due_at,
        accept_due_at, resolve_due_at, review_due_at, resolved_at, closed_at, published, rating,
        created_at, updated_at)
      SELECT pg_temp.uuid7_at(ts), $1, $2 || '-' || extract(year FROM ts)::int || '-' || lpad(n::text, 6, '0'),
        ({arr(TITLES)})[1 + (n % {len(TITLES)})] || ' tại đường ' || street,
        s1 || ' ' || s2, ($3::uuid[])[1 + f],
        CASE WHEN st IN {ASSIGNED_STATES} THEN ($4::uuid[])[2 + ((f + (n % 3 = 0)::int) % 9)] END,
        '{{}}', NULL, 22.3 + random() * 0.1, 103.8 + random() * 0.1,
        (1 + n % 200) || ' ' || street, CASE WHEN x < 0.05 THEN 'urgent' WHEN x > 0.97 THEN 'complex' ELSE 'normal' END,
        st, 1 + (n % 6), NULL, x < 0.3, NULL, NULL, 1,
        CASE WHEN st IN ('SUBMITTED', 'REOPENED', 'NEED_INFO') THEN ts + interval '1 day' END,
        CASE WHEN st IN ('ASSIGNED', 'RETURNED') THEN ts + interval '2 days' END,
        CASE WHEN st = 'IN_PROGRESS' THEN ts + interval '10 days' END,
        CASE WHEN st = 'RESULT_SUBMITTED' THEN ts + interval '12 days' END,
        CASE WHEN st IN ('RESOLVED', 'CLOSED') THEN ts + interval '6 days' END,
        CASE WHEN st IN ('CLOSED', 'REJECTED', 'DUPLICATE', 'WITHDRAWN') THEN ts + interval '9 days' END,
        st = 'CLOSED' AND y < 0.6, CASE WHEN st = 'CLOSED' AND y < 0.3 THEN 1 + (n % 5) END,
        ts, ts + interval '3 days'
      FROM (
        SELECT n, x, y, ts, floor(random() ^ 1.6 * 8)::int AS f,
          ({arr(STREETS)})[1 + floor(random() * {len(STREETS)})::int] AS street,
          ({arr(SENTENCES)})[1 + floor(random() * {len(SENTENCES)})::int] AS s1,
          ({arr(SENTENCES)})[1 + floor(random() * {len(SENTENCES)})::int] AS s2,
          CASE WHEN ts > now() - interval '45 days' THEN {case_state("y", STATES_NEW)}
               ELSE {case_state("y", STATES_OLD)} END AS st
        FROM (
          SELECT n, random() AS x, random() AS y,
            now() - interval '{months} months' + (n::float8 / $5) * interval '{months} months'
              - random() * interval '1 hour' AS ts
          FROM generate_series(1, $5) n
        ) g0
      ) g
      ORDER BY n"""
    event_sql = """
      INSERT INTO report_event (id, tenant_id, report_id, actor_user_id, actor_role, action,
        from_state, to_state, reason_code, comment, public, data, created_at)
      SELECT pg_temp.uuid7_at(ets), r.tenant_id, r.id, CASE WHEN k > 1 THEN $3::uuid END,
        CASE WHEN k = 1 THEN 'reporter' ELSE 'intake_operator' END,
        CASE WHEN k = 1 THEN 'SUBMIT' WHEN k = $2 THEN 'CLOSE' WHEN k = 2 THEN 'ASSIGN'
             WHEN k = 3 THEN 'ACCEPT' ELSE 'COMMENT' END,
        CASE WHEN k = 1 THEN NULL WHEN k = 2 THEN 'SUBMITTED' WHEN k = $2 THEN 'IN_PROGRESS'
             ELSE 'IN_PROGRESS' END,
        CASE WHEN k = 1 THEN 'SUBMITTED' WHEN k = $2 THEN r.state WHEN k = 2 THEN 'ASSIGNED'
             ELSE 'IN_PROGRESS' END,
        NULL,
        CASE WHEN k > 1 THEN 'Đã chuyển đơn vị xử lý, phiếu số ' || (k * 7919 + hashtext(r.id::text) % 100000) END,
        k = 1,
        CASE WHEN k = 1 THEN jsonb_build_object('attachments', 0, 'unit_code', NULL) END,
        ets
      FROM report r CROSS JOIN generate_series(1, $2) k,
        LATERAL (SELECT r.created_at + (k - 1) * interval '7 hours' AS ets) e
      WHERE r.tenant_id = $1
      ORDER BY ets"""
    attach_sql = """
      INSERT INTO attachment (id, tenant_id, report_id, event_id, kind, content_type, storage_key,
        thumbnail_key, size, sha256, width, height, created_at)
      SELECT pg_temp.uuid7_at(r.created_at + i * interval '1 second'), r.tenant_id, r.id, NULL, 'image',
        'image/jpeg', 'tenants/' || r.tenant_id || '/reports/' || r.id || '/' || i || '.jpg',
        'tenants/' || r.tenant_id || '/reports/' || r.id || '/' || i || '.thumb.jpg',
        150000 + abs(hashtext(r.id::text || i)) % 3000000, md5(r.id::text) || md5(i::text), 1920, 1080,
        r.created_at + i * interval '1 second'
      FROM report r CROSS JOIN LATERAL generate_series(1, CASE WHEN abs(hashtext(r.id::text)) % 100 < 33 THEN 1 + (abs(hashtext(r.id::text)) % 100 < 13)::int ELSE 0 END) i
      WHERE r.tenant_id = $1
      ORDER BY r.created_at, i"""

    totals = {"reports": 0, "events": 0, "attachments": 0}
    for t, tid in enumerate(tenant_ids, 1):
        prefix = await con.fetchval("SELECT report_prefix FROM tenant WHERE id = $1", tid)
        async with con.transaction():
            await con.execute("SELECT set_config('app.tenant_id', $1, true)", str(tid))
            await con.execute(
                "INSERT INTO tenant_settings (id, tenant_id, calendar, sla_rules, sla_version, options, updated_at)"
                " VALUES (pg_temp.uuid7_at(now()), $1, '{}', '[]', 1, '{}', now())",
                tid,
            )
            agency_ids = []
            for code, vi, en, kind, centre in AGENCIES:
                agency_ids.append(
                    await con.fetchval(
                        "INSERT INTO agency (id, tenant_id, code, name_vi, name_en, kind, is_coordination_centre,"
                        " active, created_at, updated_at) VALUES (pg_temp.uuid7_at(now()), $1, $2, $3, $4, $5, $6,"
                        " true, now(), now()) RETURNING id",
                        tid,
                        code,
                        vi,
                        en,
                        kind,
                        centre,
                    )
                )
            field_ids = []
            for (code, vi, en, order), ag in zip(FIELDS, FIELD_AGENCY, strict=True):
                field_ids.append(
                    await con.fetchval(
                        "INSERT INTO field (id, tenant_id, code, name_vi, name_en, active, default_agency_id,"
                        " sensitive, quick_fix, sort_order, created_at, updated_at) VALUES (pg_temp.uuid7_at(now()),"
                        " $1, $2, $3, $4, true, $5, false, false, $6, now(), now()) RETURNING id",
                        tid,
                        code,
                        vi,
                        en,
                        agency_ids[ag],
                        order,
                    )
                )
            # role templates: as permissions.service.install_templates
            for code, vi, en, actions in roles_rows:
                await con.execute(
                    "INSERT INTO role (id, tenant_id, code, name_vi, name_en, is_template, created_at)"
                    " VALUES (pg_temp.uuid7_at(now()), $1, $2, $3, $4, true, now())",
                    tid,
                    code,
                    vi,
                    en,
                )
                await con.execute(
                    "INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1, v2, v3, v4, v5)"
                    " SELECT pg_temp.uuid7_at(now()), $1, 'p', $2, $4, '*', '*', a, ''"
                    " FROM unnest($3::text[]) a",
                    tid,
                    code,
                    actions,
                    str(tid),
                )
            # one operator (intake_operator: unlimited report:view in the tenant)
            uid = await con.fetchval(
                "INSERT INTO app_user (id, username, full_name, email, is_active,"
                " default_tenant_id, created_at, updated_at) VALUES (pg_temp.uuid7_at(now()), $1,"
                " $2, $3, true, $4, now(), now()) RETURNING id",
                f"bench{t:03d}.operator",
                f"Cán bộ tiếp nhận {t}",
                f"operator{t}@bench.example",
                tid,
            )
            await con.execute(
                "INSERT INTO membership (id, tenant_id, user_id, role, agency_id, field_id, active, created_at)"
                " VALUES (pg_temp.uuid7_at(now()), $1, $2, 'intake_operator', NULL, NULL, true, now())",
                tid,
                uid,
            )
            await con.execute(
                "INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1, v2, v3, v4, v5)"
                " VALUES (pg_temp.uuid7_at(now()), $1, 'g', $2, 'intake_operator', $3, '*', '*', '')",
                tid,
                str(uid),
                str(tid),
            )
            await add_user(
                con, tid, t, "supervisor", "centre_supervisor"
            )  # stats:view, for c_dashboard
            # bulk data
            await con.execute(report_sql, tid, prefix, field_ids, agency_ids, R)
            if E > 0:
                await con.execute(event_sql, tid, E, uid)
            res = await con.execute(attach_sql, tid)
            totals["attachments"] += int(res.split()[-1])
            # codes of new reports continue above the seeded ones
            await con.execute(
                "INSERT INTO report_counter (id, tenant_id, year, last) VALUES"
                " (pg_temp.uuid7_at(now()), $1, extract(year FROM now())::int, $2)",
                tid,
                R,
            )
        totals["reports"] += R
        totals["events"] += R * E
        if t == 1 or t == T or t % 5 == 0:
            step(f"tenant {t}/{T}: {totals}")
    await con.execute("VACUUM (ANALYZE)")
    step("vacuum analyze")
    rows = await con.fetch("""
      SELECT c.relname, c.reltuples::bigint AS n, pg_size_pretty(pg_total_relation_size(c.oid)) AS size
      FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
      WHERE s.nspname = 'public' AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC LIMIT 8""")
    for r in rows:
        print(f"  {r['relname']:<18} {r['n']:>10} rows  {r['size']}")
    print(
        "  database size:",
        await con.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))"),
    )
    forced = await con.fetchval(
        "SELECT count(*) FROM pg_class WHERE relname IN ('report','report_event','attachment')"
        " AND relrowsecurity AND relforcerowsecurity"
    )
    print(f"  RLS enabled+forced on report/report_event/attachment: {forced}/3")
    await con.close()
    step("done")
    if server is not None:
        server.cleanup()  # stops the embedded server only if no other process holds it


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--tenants", type=int, default=50)
    ap.add_argument(
        "--reports", type=int, default=1_000_000, help="total, split evenly over tenants"
    )
    ap.add_argument("--events-per-report", type=int, default=5)
    ap.add_argument("--months", type=int, default=18, help="history spread of created_at")
    ap.add_argument("--database", default="paht_bench", help="embedded database name")
    ap.add_argument(
        "--drop", action="store_true", help="embedded only: drop and recreate the database"
    )
    ap.add_argument(
        "--add-supervisors",
        action="store_true",
        help="only add a centre_supervisor user per bench tenant of an existing seed",
    )
    args = ap.parse_args()
    asyncio.run(add_supervisors(args) if args.add_supervisors else seed(args))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Generate the approximate unit boundaries of the demo tenants (tenants/demo/*.yaml).

The boundaries are demo data for maps and point-in-polygon tests, NOT official boundaries:

1. one approximate centre per commune-level unit (CENTROIDS, with where each value comes from);
2. one hand-drawn outline per district (LAO_CAI_OUTLINE, SA_PA_OUTLINE); the two districts share
   the polyline SHARED_BORDER, so they touch but never overlap;
3. Voronoi cells of the centres (shapely.ops.voronoi_diagram, computed in a local equirectangular
   projection x = lon * cos(LAT0) so cells are not stretched east-west), clipped to the outline;
4. the linework of both districts is noded together with snap rounding on a 1e-5 degree grid
   (shapely.unary_union with grid_size) and polygonized, so neighbouring units, and the two
   districts along their common border, use exactly the same vertices: no overlaps, no gaps;
5. if a unit has more than MAX_VERTICES vertices the shared edges are simplified (topology
   preserving, once per edge, so the coverage stays exact) with a growing tolerance.

The script reads each YAML file, replaces every administrative_units[*].boundary and rewrites the
file (everything else is kept, re-serialised in a fixed layout). Deterministic: rerunning it on
unchanged inputs reproduces the files byte for byte.

Usage (from the project root):
    .venv/bin/python bench/make_demo_boundaries.py          # rewrite the boundary entries
    .venv/bin/python bench/make_demo_boundaries.py --check  # exit 1 if a file is out of date
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any

import shapely
import yaml
from shapely.affinity import scale
from shapely.geometry import MultiPoint, Point, Polygon, box
from shapely.geometry.polygon import orient
from shapely.ops import polygonize, voronoi_diagram

ROOT = Path(__file__).resolve().parents[1]
DEMO_DIR = ROOT / "tenants" / "demo"
TENANT_FILES = {
    "lao-cai": DEMO_DIR / "lao-cai.yaml",
    "sa-pa": DEMO_DIR / "sa-pa.yaml",
}

GRID = 1e-5  # output precision: 5 decimals (about 1 m)
MAX_VERTICES = 40  # per polygon ring, not counting the closing point
LAT0 = 22.35  # reference latitude of the local projection
SIMPLIFY_TOLERANCES = (0.0, 2e-4, 5e-4, 1e-3, 2e-3, 4e-3)

# Approximate centres, (code, name, lat, lon, source). Sources:
#   wiki = coordinates of the Wikipedia (vi/en) infobox of the unit (seat of the People's Committee)
#   geo  = a 2019 geocoded commune list (coordinates looked up by name), checked and adjusted
#          against the neighbours named in NQ 767/NQ-UBTVQH14 and NQ 896/NQ-UBTVQH14
#   est  = estimated from geography (rivers, roads, neighbouring units); expect errors of 1-3 km
#          for urban wards and 3-6 km for large rural communes
CENTROIDS: dict[str, list[tuple[str, str, float, float, str]]] = {
    "lao-cai": [
        ("02635", "Phường Duyên Hải", 22.5040, 103.9520, "geo"),
        ("02641", "Phường Lào Cai", 22.5050, 103.9800, "geo"),  # incl. former phường Phố Mới
        ("02644", "Phường Cốc Lếu", 22.4940, 103.9660, "geo"),
        ("02647", "Phường Kim Tân", 22.4800, 103.9680, "geo"),
        ("02650", "Phường Bắc Lệnh", 22.4310, 104.0080, "geo"),
        ("02653", "Phường Pom Hán", 22.4170, 104.0170, "geo"),
        ("02656", "Phường Xuân Tăng", 22.4120, 104.0500, "geo"),
        ("02658", "Phường Bình Minh", 22.4350, 104.0300, "geo"),
        ("02659", "Xã Thống Nhất", 22.3620, 104.0650, "est"),
        ("02662", "Xã Đồng Tuyển", 22.4870, 103.9370, "geo"),
        ("02665", "Xã Vạn Hòa", 22.4720, 104.0120, "geo"),
        ("02668", "Phường Bắc Cường", 22.4553, 103.9775, "wiki"),
        ("02671", "Phường Nam Cường", 22.4430, 103.9930, "geo"),
        ("02674", "Xã Cam Đường", 22.3980, 104.0250, "geo"),
        ("02677", "Xã Tả Phời", 22.3800, 103.9450, "geo"),
        ("02680", "Xã Hợp Thành", 22.3620, 104.0100, "geo"),
        ("02746", "Xã Cốc San", 22.4560, 103.9300, "geo"),
    ],
    "sa-pa": [
        ("03001", "Phường Sa Pa", 22.3356, 103.8419, "wiki"),
        ("03002", "Phường Sa Pả", 22.3580, 103.8720, "est"),
        ("03003", "Phường Ô Quý Hồ", 22.3550, 103.8180, "est"),
        ("03004", "Xã Ngũ Chỉ Sơn", 22.4200, 103.7900, "geo"),
        ("03006", "Phường Phan Si Păng", 22.3330, 103.8220, "est"),
        ("03010", "Xã Trung Chải", 22.4080, 103.8700, "geo"),
        ("03013", "Xã Tả Phìn", 22.3850, 103.8330, "geo"),
        ("03016", "Phường Hàm Rồng", 22.3500, 103.8480, "est"),
        ("03019", "Xã Hoàng Liên", 22.3000, 103.7950, "est"),
        ("03022", "Xã Thanh Bình", 22.3050, 103.9750, "est"),
        ("03028", "Phường Cầu Mây", 22.3193, 103.8581, "wiki"),
        ("03037", "Xã Mường Hoa", 22.3020, 103.9050, "geo"),
        ("03040", "Xã Tả Van", 22.2700, 103.8850, "est"),
        ("03043", "Xã Mường Bo", 22.2480, 103.9800, "est"),
        ("03046", "Xã Bản Hồ", 22.2150, 103.9350, "geo"),
        ("03052", "Xã Liên Minh", 22.2000, 104.0300, "est"),
    ],
}

# Outlines, (lon, lat). Hand-drawn approximations of the 2022 district boundaries (TP Lào Cai
# about 282 km², TX Sa Pa about 681 km²). The common border runs from the Bảo Thắng tripoint in
# the east (south of xã Thống Nhất) to the Bát Xát tripoint in the north-west (west of Tả Phời).
SHARED_BORDER: list[tuple[float, float]] = [
    (104.055, 22.330),
    (104.030, 22.335),
    (104.000, 22.335),
    (103.970, 22.340),
    (103.940, 22.343),
    (103.915, 22.360),
    (103.900, 22.385),
    (103.893, 22.415),
]
# TP Lào Cai: from the Bát Xát border (Cốc San) north along the Red River to the China border,
# east along the Nậm Thi, then south along Bảo Thắng (Bản Phiệt, Bản Cầm, Thái Niên, Gia Phú).
LAO_CAI_OUTLINE: list[tuple[float, float]] = [
    (103.905, 22.438),
    (103.912, 22.462),
    (103.920, 22.485),
    (103.925, 22.505),
    (103.930, 22.525),
    (103.948, 22.518),
    (103.962, 22.507),
    (103.975, 22.522),
    (103.990, 22.527),
    (104.005, 22.515),
    (104.030, 22.492),
    (104.045, 22.462),
    (104.062, 22.440),
    (104.078, 22.410),
    (104.082, 22.375),
    (104.075, 22.342),
    *SHARED_BORDER,
]
# TX Sa Pa: from the Bảo Thắng / Văn Bàn side in the east, south-west along Văn Bàn, north-west
# along the Hoàng Liên Sơn ridge (Lai Châu, Fansipan, Ô Quy Hồ pass), east along Bát Xát.
SA_PA_OUTLINE: list[tuple[float, float]] = [
    (104.065, 22.300),
    (104.075, 22.260),
    (104.080, 22.215),
    (104.070, 22.175),
    (104.040, 22.145),
    (104.000, 22.150),
    (103.965, 22.165),
    (103.930, 22.170),
    (103.900, 22.200),
    (103.870, 22.225),
    (103.840, 22.255),
    (103.805, 22.280),
    (103.775, 22.303),
    (103.760, 22.330),
    (103.765, 22.360),
    (103.742, 22.390),
    (103.728, 22.425),
    (103.745, 22.455),
    (103.775, 22.470),
    (103.810, 22.465),
    (103.840, 22.450),
    (103.865, 22.435),
    (103.880, 22.425),
    *reversed(SHARED_BORDER),
]
OUTLINES: dict[str, list[tuple[float, float]]] = {
    "lao-cai": LAO_CAI_OUTLINE,
    "sa-pa": SA_PA_OUTLINE,
}

HEADER = """\
# Demo / pilot onboarding data: {name} (PAHT). Sources: tenants/demo/README.md.
# The `boundary` entries are generated by bench/make_demo_boundaries.py (approximate Voronoi
# cells, NOT official boundaries). Edit the other sections here, then rerun the script: it keeps
# them and rewrites this file in a fixed layout (comments other than this header are dropped).
"""


def outline_polygon(tenant: str) -> Polygon:
    poly = Polygon(OUTLINES[tenant])
    if not poly.is_valid:
        raise ValueError(f"outline of {tenant} is not a valid polygon")
    return poly


def centroid_points(tenant: str) -> dict[str, Point]:
    return {code: Point(lon, lat) for code, _name, lat, lon, _src in CENTROIDS[tenant]}


def _voronoi_cells(tenant: str) -> dict[str, Polygon]:
    """Unclipped Voronoi cell (lon, lat) of every centre, computed in the local projection."""
    k = math.cos(math.radians(LAT0))
    points = centroid_points(tenant)
    outline = outline_polygon(tenant)
    for code, point in points.items():
        if not outline.contains(point):
            raise ValueError(f"{tenant}: centre of {code} lies outside the district outline")
    projected = MultiPoint([(p.x * k, p.y) for p in points.values()])
    envelope = box(*scale(outline, xfact=k, yfact=1.0, origin=(0, 0)).buffer(0.2).bounds)
    diagram = voronoi_diagram(projected, envelope=envelope)
    cells: dict[str, Polygon] = {}
    for cell in diagram.geoms:
        unprojected = scale(cell, xfact=1 / k, yfact=1.0, origin=(0, 0))
        owners = [code for code, p in points.items() if unprojected.contains(p)]
        if len(owners) != 1:
            raise ValueError(f"{tenant}: a Voronoi cell holds {len(owners)} centres")
        cells[owners[0]] = unprojected
    if set(cells) != set(points):
        raise ValueError(f"{tenant}: Voronoi cells do not match the centres")
    return cells


def _vertex_count(poly: Polygon) -> int:
    return max(len(ring.coords) - 1 for ring in (poly.exterior, *poly.interiors))


def _coverage(tolerance: float) -> dict[str, dict[str, Polygon]]:
    outlines = {t: outline_polygon(t) for t in OUTLINES}
    cells = {t: _voronoi_cells(t) for t in OUTLINES}
    lines = []
    for tenant, outline in outlines.items():
        lines.append(outline.exterior)
        lines.extend(cell.boundary.intersection(outline) for cell in cells[tenant].values())
    noded = shapely.unary_union(lines, grid_size=GRID)
    if tolerance > 0:
        # Simplify each edge between two junctions once; both neighbours then use the same
        # simplified edge, so the coverage stays exact. Node again on the grid afterwards.
        merged = shapely.line_merge(noded)
        simplified = shapely.simplify(merged, tolerance, preserve_topology=True)
        noded = shapely.unary_union(simplified, grid_size=GRID)
    faces: dict[str, dict[str, list[Polygon]]] = {t: {} for t in OUTLINES}
    for face in polygonize(list(getattr(noded, "geoms", [noded]))):
        inside = face.representative_point()
        tenant = next((t for t, o in outlines.items() if o.contains(inside)), None)
        if tenant is None:
            continue  # a hole between the two districts, if any
        owner = max(cells[tenant], key=lambda code: cells[tenant][code].intersection(face).area)
        faces[tenant].setdefault(owner, []).append(face)
    result: dict[str, dict[str, Polygon]] = {}
    for tenant, by_unit in faces.items():
        units: dict[str, Polygon] = {}
        for code in cells[tenant]:
            merged_face = shapely.unary_union(by_unit.get(code, []), grid_size=GRID)
            if not isinstance(merged_face, Polygon) or merged_face.is_empty:
                raise ValueError(f"{tenant}/{code}: boundary is not a single polygon")
            units[code] = orient(shapely.normalize(merged_face), sign=1.0)
        result[tenant] = units
    return result


def build_boundaries() -> dict[str, dict[str, Polygon]]:
    """{tenant code: {unit code: Polygon}} tiling each district outline, deterministic."""
    for tolerance in SIMPLIFY_TOLERANCES:
        coverage = _coverage(tolerance)
        if all(_vertex_count(p) <= MAX_VERTICES for u in coverage.values() for p in u.values()):
            break
    else:
        raise ValueError(f"cannot get every unit under {MAX_VERTICES} vertices")
    for tenant, units in coverage.items():
        outline = outline_polygon(tenant)
        points = centroid_points(tenant)
        for code, poly in units.items():
            if not poly.is_valid or not poly.contains(points[code]):
                raise ValueError(f"{tenant}/{code}: invalid cell or centre outside its cell")
        # Tiling up to the grid: nodes inserted on the outline are snapped to the 1e-5 grid.
        covered = shapely.unary_union(list(units.values()))
        if (
            not isinstance(covered, Polygon)
            or covered.interiors
            or covered.exterior.hausdorff_distance(outline.exterior) > 2 * GRID
            or covered.symmetric_difference(outline).area > 1e-6
        ):
            raise ValueError(f"{tenant}: units do not tile the district outline")
    return coverage


def to_geojson(poly: Polygon) -> dict[str, Any]:
    rings = [poly.exterior, *poly.interiors]
    return {
        "type": "Polygon",
        "coordinates": [[_Flow([round(x, 5), round(y, 5)]) for x, y in r.coords] for r in rings],
    }


class _Flow(list):
    """A list written in YAML flow style, e.g. a [lon, lat] pair."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)  # indent block lists under their key


def _represent_flow(dumper: yaml.SafeDumper, data: _Flow) -> yaml.Node:
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # Codes such as "088" or "02635" must stay strings for every YAML reader (YAML 1.2 reads an
    # unquoted 088 as the integer 88), so digit-only strings are always double-quoted.
    style = '"' if data.isdigit() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(_Flow, _represent_flow)
_Dumper.add_representer(str, _represent_str)


def render(tenant: str, doc: dict[str, Any], units: dict[str, Polygon]) -> str:
    """The YAML text of `doc` with every unit boundary replaced by the generated one."""
    names = {code: name for code, name, _lat, _lon, _src in CENTROIDS[tenant]}
    listed = [unit["code"] for unit in doc["administrative_units"]]
    if sorted(listed) != sorted(names):
        raise ValueError(f"{tenant}: YAML units {sorted(listed)} != centre table {sorted(names)}")
    for unit in doc["administrative_units"]:
        if unit["name"] != names[unit["code"]]:
            raise ValueError(f"{tenant}/{unit['code']}: name {unit['name']!r} != table")
        unit["boundary"] = to_geojson(units[unit["code"]])
    body = yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    return HEADER.format(name=doc["tenant"]["name_vi"]) + body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report out-of-date files")
    args = parser.parse_args(argv)
    coverage = build_boundaries()
    stale = []
    for tenant, path in TENANT_FILES.items():
        old = path.read_text(encoding="utf-8")
        new = render(tenant, yaml.safe_load(old), coverage[tenant])
        if new == old:
            print(f"{path.relative_to(ROOT)}: up to date")
            continue
        stale.append(path)
        if not args.check:
            path.write_text(new, encoding="utf-8")
            print(f"{path.relative_to(ROOT)}: boundaries rewritten")
        else:
            print(f"{path.relative_to(ROOT)}: out of date")
    km2_per_square_degree = 110.6 * 111.3 * math.cos(math.radians(LAT0))
    for tenant, units in coverage.items():
        km2 = sum(p.area for p in units.values()) * km2_per_square_degree
        worst = max(_vertex_count(p) for p in units.values())
        print(f"{tenant}: {len(units)} units, about {km2:.0f} km², max {worst} vertices")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())

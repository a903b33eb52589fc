"""Build the classroom map's country shapes: ``classroom/geo/region.geojson``.

Source: Natural Earth's Admin 0 countries at 1:50m (public domain), as TopoJSON in the npm
package ``world-atlas`` (Natural Earth 4.1.0). ``mapshaper`` (npm) converts the TopoJSON
to GeoJSON, clips it to the region box, simplifies the shared borders and finds a label
point inside each chooser's and each pole's largest polygon (its "inner" point, found in
the map's own projection). This script keeps every country in the box: the model's
choosers and poles by their ``attribute_state`` name, the others as grey context.

Borders: Natural Earth 4.1.0 draws Crimea as Russia's (de facto control); the map shows
the borders the UN General Assembly recognises (resolution 68/262, 2014), so the script
moves that part back to Ukraine (Abkhazia, South Ossetia, Transnistria and Nagorno-
Karabakh are already inside Georgia, Moldova and Azerbaijan in Natural Earth).

Needs node and npm (the npm registry is the only network used). Re-runnable; it prints
what it did. Usage:

    .venv/bin/python scripts/build_region_map.py [--workdir DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alignment_sim import default_config

WORLD_ATLAS = "2.0.2"
"""npm world-atlas version: Natural Earth 4.1.0, Admin 0 countries."""
MAPSHAPER = "0.7.70"
SOURCE_FILE = "countries-50m.json"
BOX = (16.0, 34.0, 90.0, 58.0)
"""The region box, degrees: west, south, east, north (the West's marker sits in 16-22°E)."""
SIMPLIFY = "20%"
"""Share of vertices mapshaper keeps (Visvalingam, borders stay shared)."""
PRECISION = 0.01
"""Coordinates rounded to 0.01° (about 1 km)."""
CRIMEA = (32.4, 44.3, 36.7, 46.3)
"""A part of Russia's shape whose centroid lies in this box (degrees) is Crimea."""
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "alignment_sim" / "classroom" / "geo" / "region.geojson"


def run(command: list[str], cwd: Path) -> str:
    """Run a command, echo it, and return its standard output (exit on failure)."""
    print("$", " ".join(command), flush=True)
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"build_region_map: failed ({done.returncode}):\n{done.stderr}")
    for line in (done.stdout + done.stderr).splitlines():
        print("   ", line)
    return done.stdout


def install(workdir: Path) -> tuple[Path, Path]:
    """Install world-atlas and mapshaper into ``workdir``; return the TopoJSON and the
    mapshaper command."""
    run(
        [
            "npm",
            "install",
            "--prefix",
            str(workdir),
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            f"world-atlas@{WORLD_ATLAS}",
            f"mapshaper@{MAPSHAPER}",
        ],
        workdir,
    )
    return (
        workdir / "node_modules" / "world-atlas" / SOURCE_FILE,
        workdir / "node_modules" / ".bin" / "mapshaper",
    )


def region_names() -> tuple[dict[str, str], dict[str, str]]:
    """Natural Earth name -> model name, for the choosers and for the poles with a
    country (the default region)."""
    region = default_config().region
    choosers = {(s.attribute_state or s.name.title()): s.name for s in region.states}
    poles = {p.attribute_state: p.name for p in region.poles if p.attribute_state}
    return choosers, poles


def count_vertices(coordinates: list) -> int:
    """Number of positions in a GeoJSON coordinates array (any nesting)."""
    if coordinates and isinstance(coordinates[0], (int, float)):
        return 1
    return sum(count_vertices(part) for part in coordinates)


def build(workdir: Path, out: Path) -> None:
    topojson, mapshaper = install(workdir)
    west, south, east, north = BOX
    shapes = workdir / "shapes.geojson"
    labels = workdir / "labels.geojson"
    run(
        [
            str(mapshaper),
            "-i",
            str(topojson),
            "-target",
            "countries",
            "-explode",
            "-each",
            f"if (name == 'Russia' && this.centroidX > {CRIMEA[0]} && this.centroidX < "
            f"{CRIMEA[2]} && this.centroidY > {CRIMEA[1]} && this.centroidY < {CRIMEA[3]}) "
            "{ name = 'Ukraine'; console.log('Crimea: moved ' + Math.round(this.area / 1e6) "
            "+ ' km2 from Russia to Ukraine') }",
            "-dissolve",
            "fields=name",
            "-clip",
            f"bbox={west},{south},{east},{north}",
            "-filter",
            "!this.isNull",
            "-simplify",
            SIMPLIFY,
            "keep-shapes",
            "-o",
            "format=geojson",
            f"precision={PRECISION}",
            str(shapes),
        ],
        workdir,
    )
    choosers, poles = region_names()
    named = json.dumps(sorted([*choosers, *poles]))
    lat_mid = (south + north) / 2
    lon_mid = (west + east) / 2
    run(
        [
            str(mapshaper),
            "-i",
            str(shapes),
            "-filter",
            f"{named}.includes(name)",
            "-proj",
            f"+proj=eqc +lat_ts={lat_mid} +lon_0={lon_mid}",
            "-points",
            "inner",
            "-proj",
            "wgs84",
            "-o",
            "format=geojson",
            f"precision={PRECISION / 10}",
            str(labels),
        ],
        workdir,
    )
    anchors = {
        f["properties"]["name"]: [round(c, 2) for c in f["geometry"]["coordinates"]]
        for f in json.loads(labels.read_text())["features"]
    }
    missing = sorted((set(choosers) | set(poles)) - set(anchors))
    if missing:
        sys.exit(f"build_region_map: no shape in the box for {missing}")
    features = []
    for feature in json.loads(shapes.read_text())["features"]:
        name = feature["properties"]["name"]
        role = "chooser" if name in choosers else "pole" if name in poles else "context"
        properties: dict[str, object] = {
            "id": choosers.get(name) or poles.get(name) or name.lower(),
            "name": name,
            "role": role,
        }
        if role != "context":
            properties["label"] = anchors[name]
        features.append(
            {"type": "Feature", "properties": properties, "geometry": feature["geometry"]}
        )
    order = {"chooser": 0, "pole": 1, "context": 2}
    features.sort(key=lambda f: (order[f["properties"]["role"]], f["properties"]["id"]))
    collection = {
        "type": "FeatureCollection",
        "bbox": list(BOX),
        "source": (
            f"Natural Earth 4.1.0 Admin 0 countries 1:50m (public domain), npm world-atlas "
            f"{WORLD_ATLAS}/{SOURCE_FILE}; clipped, simplified to {SIMPLIFY} by mapshaper "
            f"{MAPSHAPER}; scripts/build_region_map.py"
        ),
        "features": features,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(collection, separators=(",", ":")) + "\n")
    vertices = sum(count_vertices(f["geometry"]["coordinates"]) for f in features)
    counts = {role: sum(f["properties"]["role"] == role for f in features) for role in order}
    print(
        f"wrote {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}: "
        f"{out.stat().st_size / 1000:.0f} kB, {len(features)} countries "
        f"({counts['chooser']} choosers, {counts['pole']} poles, {counts['context']} context), "
        f"{vertices} vertices, box {BOX}"
    )
    for name, anchor in sorted(anchors.items()):
        print(f"  label point {name}: {anchor[0]:.2f}°E {anchor[1]:.2f}°N")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="keep npm packages here (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"output (default {OUT})")
    args = parser.parse_args()
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            sys.exit(f"build_region_map: {tool} not found; install Node.js (npm comes with it)")
    if args.workdir:
        args.workdir.mkdir(parents=True, exist_ok=True)
        build(args.workdir.resolve(), args.out.resolve())
    else:
        with tempfile.TemporaryDirectory(prefix="region_map_") as tmp:
            build(Path(tmp), args.out.resolve())


if __name__ == "__main__":
    main()

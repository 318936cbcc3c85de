"""Rebuild kb/render/outlines/countries.geojson, the outlines the Map page draws, from the npm package
world-atlas (Natural Earth 4.1.0 as TopoJSON, public domain; the package's code is ISC):

    cd "$(mktemp -d)" && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python tools/outlines.py package/countries-50m.json > kb/render/outlines/countries.geojson

China is Natural Earth's China with Hong Kong and Macao (the seeds count both as CN cities); Germany
as it is. Rings are simplified (Douglas-Peucker, TOLERANCE degrees) and islands smaller than
MIN_RING_POINTS after simplification are dropped, so the file stays a few tens of kilobytes."""
from __future__ import annotations

import json
import sys

# Natural Earth's ISO 3166 numeric ids -> the two-letter code the knowledge base uses.
COUNTRIES = {"156": "CN", "344": "CN", "446": "CN", "276": "DE"}
TOLERANCE = {"CN": 0.08, "DE": 0.015}   # degrees: China is some 14 times wider than Germany on the map
MIN_RING_POINTS = 4


def decoded_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """The topology's arcs in degrees (delta-encoded, quantised integers in the file)."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs, indexes) -> list[tuple[float, float]]:
    points = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def simplified(points, tolerance: float) -> list[tuple[float, float]]:
    """Douglas-Peucker on one ring (its first and last points kept)."""
    if len(points) < 3:
        return list(points)
    (x1, y1), (x2, y2) = points[0], points[-1]
    length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
    farthest, index = -1.0, 0
    for i, (x, y) in enumerate(points[1:-1], start=1):
        if length == 0:
            distance = ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
        else:
            distance = abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length
        if distance > farthest:
            farthest, index = distance, i
    if farthest <= tolerance:
        return [points[0], points[-1]]
    return simplified(points[:index + 1], tolerance)[:-1] + simplified(points[index:], tolerance)


def outlines(topology: dict) -> dict:
    arcs = decoded_arcs(topology)
    polygons = {code: [] for code in sorted(set(COUNTRIES.values()))}
    for geometry in topology["objects"]["countries"]["geometries"]:
        code = COUNTRIES.get(geometry.get("id"))
        if code is None:
            continue
        shapes = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for shape in shapes:
            outer = simplified(ring(arcs, shape[0]), TOLERANCE[code])
            if len(outer) >= MIN_RING_POINTS:
                # Holes are left out: none matters at the size the map draws.
                polygons[code].append([[[round(x, 3), round(y, 3)] for x, y in outer]])
    return {"type": "FeatureCollection",
            "source": "Natural Earth 4.1.0 (public domain) via the npm package world-atlas 2.0.2, countries-50m",
            "features": [{"type": "Feature", "properties": {"country": code},
                          "geometry": {"type": "MultiPolygon", "coordinates": shapes}}
                         for code, shapes in polygons.items()]}


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as file:
        json.dump(outlines(json.load(file)), sys.stdout, separators=(",", ":"))

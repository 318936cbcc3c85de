"""The audit's sample (issue 23): N ties drawn at random, with a fixed seed, from the open-data files
added in the coverage round, each with the pages it cites, for a reviewer who did not compile them
to check against those pages. `python docs/audit_sample.py [--size 40] [--seed 23]`."""
from __future__ import annotations

import argparse
import random
from pathlib import Path

import yaml

OPEN = Path(__file__).resolve().parent.parent / "seeds" / "open"
NEW_FILES = ["acquisitions-2002-2015.yaml", "acquisitions-2016-today.yaml", "german-firms-in-china.yaml",
             "chinese-sites-in-germany.yaml", "region-partnerships.yaml", "sister-cities-more.yaml",
             "parks.yaml", "trade-fairs.yaml"]
# Placing ties (a city in its Land, a firm's home country) are not the facts the domains are about.
PLACING = {"LOCATED_IN", "HOME_COUNTRY"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args()
    documents = {name: yaml.safe_load((OPEN / name).read_text(encoding="utf-8")) for name in NEW_FILES}
    urls = {e["id"]: e.get("url", "") for path in OPEN.glob("*.yaml")
            for e in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("entities") or []
            if e["type"] == "Source"}
    ties = [(name, r) for name, document in documents.items() for r in document.get("relations") or []
            if r["type"] not in PLACING]
    for number, (name, tie) in enumerate(random.Random(args.seed).sample(ties, args.size), 1):
        print(f"{number}. {tie['from']} {tie['type']} {tie['to']} (since {tie.get('since', '-')}, "
              f"status {tie.get('status', '-')}; {name})")
        for source in tie["sources"]:
            print(f"   {source}: {urls.get(source, '?')}")


if __name__ == "__main__":
    main()

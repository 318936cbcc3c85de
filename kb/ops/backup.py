"""Back up the knowledge base to one file and restore it, checked against what the backup recorded.

A backup is a tar archive holding manifest.json (what the graph held: nodes by label, relations by
type, and the count and SHA-256 digest of the sorted ids) and either
- neo4j.dump: the local server's database, dumped by neo4j-admin (kind "dump"); or
- csv/: for a database named by NEO4J_URI, whose files this machine cannot reach, the export in the
  import convention (kind "csv"), restored through the loader. Its manifest covers the entities and
  the relations between them, which is what the export holds.
"""
from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from kb import config, db
from kb.errors import BackupError
from kb.ops import admin
from kb.schema import ENTITY_LABEL

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "neo4j.dump"
CSV_FOLDER = "csv"
KINDS = ("dump", "csv")

# What a manifest counts: every node and relation for a dump, the entities and the relations between
# them (what the CSV export writes) for a logical backup.
SCOPES = {
    "dump": {"nodes": "MATCH (n)", "relations": "MATCH ()-[r]->()"},
    "csv": {"nodes": f"MATCH (n:{ENTITY_LABEL})", "relations": f"MATCH (:{ENTITY_LABEL})-[r]->(:{ENTITY_LABEL})"},
}
ANY_NODE_QUERY = "MATCH (n) RETURN count(n) > 0 AS found LIMIT 1"
# Dump and load stream the store's files: a small heap is enough, and leaves memory to the others.
ADMIN_HEAP = "512m"
# Relations first, in batches of their own: a batch of nodes detached at once may hold hubs' tens of
# thousands of ties, past the server's transaction memory limits (KB_NEO4J_TRANSACTION_MAX).
WIPE_QUERIES = ("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS",
                "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS")


def wipe() -> None:
    """Delete every node and relation of the database, in batches."""
    for query in WIPE_QUERIES:
        db.autocommit(query)


def snapshot(kind: str) -> dict:
    """Nodes by label, relations by type, and the ids (count and digest) of the graph as it is now."""
    scope = SCOPES[kind]

    def work(tx):
        labels = {r["label"]: r["count"] for r in tx.run(
            scope["nodes"] + " UNWIND labels(n) AS label RETURN label, count(*) AS count")}
        types = {r["type"]: r["count"] for r in tx.run(
            scope["relations"] + " RETURN type(r) AS type, count(*) AS count")}
        ids = sorted(r["id"] for r in tx.run(scope["nodes"] + " WHERE n.id IS NOT NULL RETURN n.id AS id"))
        return labels, types, ids
    labels, types, ids = db.read_tx(work)
    digest = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()
    return {"nodes": dict(sorted(labels.items())), "relations": dict(sorted(types.items())),
            "ids": {"count": len(ids), "sha256": digest}}


def differences(expected: dict, found: dict) -> list[str]:
    """What differs between two snapshots, one phrase each."""
    problems = []
    for part, noun in (("nodes", "label"), ("relations", "type")):
        for name in sorted(set(expected[part]) | set(found[part])):
            want, have = expected[part].get(name, 0), found[part].get(name, 0)
            if want != have:
                problems.append(f"{noun} {name}: {want} in the backup, {have} now")
    if expected["ids"] != found["ids"]:
        problems.append(f"ids: {expected['ids']['count']} in the backup, {found['ids']['count']} now"
                        + (", with other values" if expected["ids"]["count"] == found["ids"]["count"] else ""))
    return problems


def _total(manifest: dict) -> str:
    return f"{manifest['ids']['count']} nodes with an id and {sum(manifest['relations'].values())} relations"


# --- writing a backup --------------------------------------------------------------------------------
def backup(path: Path, echo=print) -> dict:
    """Write the whole knowledge base to path; returns the manifest."""
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} exists: choose another file name or delete it first.")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent}: no such folder.")
    started = time.monotonic()
    conn = config.connection()
    kind = "dump" if conn.local else "csv"
    if conn.local:
        admin.start_local(echo, BackupError)
    db.ping()
    manifest = {"format": FORMAT, "kind": kind, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "database": conn.database, "from": conn.uri, **snapshot(kind)}
    with tempfile.TemporaryDirectory(prefix="kb-backup-") as work:
        content = Path(work) / (DUMP if kind == "dump" else CSV_FOLDER)
        if kind == "dump":
            with admin.server_offline(echo, BackupError):
                admin.run(["database", "dump", conn.database, f"--to-path={work}"], ADMIN_HEAP, echo, BackupError)
                _write_archive(path, manifest, content)     # before the restart, which may fail
        else:
            from kb.export import export
            export("csv", content)
            _write_archive(path, manifest, content)
    echo(f"Backed up {_total(manifest)} ({kind}) to {path} in {time.monotonic() - started:.1f} s.")
    return manifest


def _write_archive(path: Path, manifest: dict, content: Path) -> None:
    """The archive is written beside its final name and renamed at the end: never a half backup."""
    partial = path.with_name(path.name + ".partial")
    try:
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(data), int(time.time())
            archive.addfile(info, io.BytesIO(data))
            archive.add(content, arcname=content.name)
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


# --- restoring one -----------------------------------------------------------------------------------
def read_manifest(path: Path) -> dict:
    """The manifest of a backup file; BackupError if path is not one."""
    try:
        with tarfile.open(path, "r:*") as archive:
            manifest = json.load(archive.extractfile(MANIFEST))
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file.") from None
    except tarfile.TarError:
        raise BackupError(f"{path}: not a kb backup (not a tar archive).") from None
    except KeyError:
        raise BackupError(f"{path}: not a kb backup (no {MANIFEST} in the archive).") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise BackupError(f"{path}: not a kb backup ({MANIFEST} is not JSON: {error}).") from None
    if manifest.get("format") != FORMAT or manifest.get("kind") not in KINDS:
        raise BackupError(f"{path}: a backup of format {manifest.get('format')!r} and kind "
                          f"{manifest.get('kind')!r}; this kb reads format {FORMAT}, kinds {', '.join(KINDS)}.")
    return manifest


def restore(path: Path, load_folder, force: bool = False, echo=print) -> dict:
    """Replace the knowledge base by the backup at path and check it against the backup's manifest;
    refused, with nothing changed, when the database holds anything and force is not given.

    load_folder(folder) loads a logical backup's CSV folder and says what it loaded: the loaders,
    which kb/ does not import (the CLI wires them)."""
    path = Path(path)
    manifest = read_manifest(path)
    started = time.monotonic()
    conn = config.connection()
    if manifest["kind"] == "dump" and not conn.local:
        raise BackupError(f"{path} holds a neo4j-admin dump, which loads only into the local server "
                          f"(NEO4J_URI is set to {conn.uri}); restore it locally, then `kb backup` there "
                          "makes a logical backup for that database.")
    if conn.local:
        admin.start_local(echo, BackupError)
    occupied = db.read(ANY_NODE_QUERY)[0]["found"]
    if occupied and not force:
        raise BackupError(f"The database at {conn.uri} is not empty: `kb restore --force {path}` replaces "
                          "everything in it by the backup.")
    with tempfile.TemporaryDirectory(prefix="kb-restore-") as work:
        content = _extract(path, manifest["kind"], Path(work))
        if manifest["kind"] == "dump":
            with admin.server_offline(echo, BackupError):
                admin.run(["database", "load", conn.database, f"--from-path={content.parent}",
                           "--overwrite-destination=true"], ADMIN_HEAP, echo, BackupError)
        else:
            _load_logical(content, occupied, load_folder, echo)
    found = snapshot(manifest["kind"])
    problems = differences(manifest, found)
    if problems:
        raise BackupError(f"The restore of {path} does not match its manifest: {'; '.join(problems)}.")
    echo(f"Restored {_total(manifest)} from {path} in {time.monotonic() - started:.1f} s; "
         "counts and ids match the backup.")
    return manifest


def _extract(path: Path, kind: str, work: Path) -> Path:
    """Unpack the backup's content (the dump file or the CSV folder) into work."""
    wanted = DUMP if kind == "dump" else CSV_FOLDER
    with tarfile.open(path, "r:*") as archive:
        members = [m for m in archive.getmembers() if m.name == wanted or m.name.startswith(wanted + "/")]
        if not members:
            raise BackupError(f"{path}: a {kind} backup without its {wanted}.")
        # The "data" filter refuses absolute paths, links out of work and device files.
        archive.extractall(work, members=members, filter="data")
    return work / wanted


def _load_logical(folder: Path, occupied: bool, load_folder, echo) -> None:
    """The CSV export back through the loader, into an emptied database."""
    from kb import ddl
    if occupied:
        echo("Deleting everything in the database first (--force)...")
        wipe()
    ddl.init()
    echo(load_folder(folder))

"""Turns: the order in which a load's batches write, kept by a token node on the server.

The writer keeps two batches in flight so that the server never waits for the client to pack
and send the next one. Each batch statement first takes the load's token: the token's lock is
held until the batch commits, so batches write one at a time, and a batch whose turn has not
come yet (it overtook its predecessor on the way) writes nothing and is sent again. Entities
thus still precede the relations that need them, and a later row still wins over an earlier one.
"""
from __future__ import annotations

from kb import db
from kb.errors import LoadInterrupted
from kb.schema import LOAD_TOKEN_LABEL

# A load whose token has not moved for this long has ended without deleting it (a crash).
ABANDONED_AFTER = "PT10M"

# Setting a property takes the token's write lock first, so next_turn is read after the
# predecessor's commit. The batch's rows pass only if its turn has come. (No CALL subquery:
# its scope clause needs Neo4j 5.23, and the loader supports every Neo4j 5.)
_TAKE_TURN = ("MATCH (token) WHERE elementId(token) = $token "
              "SET token.last_turn_at = datetime() "
              "WITH token WHERE token.next_turn = $turn "
              "SET token.next_turn = $turn + 1 "
              "WITH token ")
_TURN_TAKEN = "MATCH (token) WHERE elementId(token) = $token RETURN token.next_turn = $turn + 1 AS taken"


def write_in_turn(tx, statement: str, token: str, turn: int, **params) -> dict | None:
    """Run the batch statement (beginning with UNWIND, returning one record) in its turn ($turn)
    on the load's token, and return that record as a dict.

    None when the turn had not come, and nothing was written: the batch must go again once its
    predecessor has committed."""
    result = tx.run(_TAKE_TURN + statement, token=token, turn=turn, **params).single(strict=True).data()
    # Within this transaction, which holds the token's lock, next_turn shows whether it moved.
    record = tx.run(_TURN_TAKEN, token=token, turn=turn).single()
    if record is None:
        raise LoadInterrupted(f"the load's {LOAD_TOKEN_LABEL} node was deleted while the load ran, so its "
                              "batches could no longer be kept in order; run the load again")
    return result if record["taken"] else None


def create_token() -> str:
    """A new token for a load at its first turn; clears the tokens of loads that ended abruptly."""
    db.write(f"MATCH (token:{LOAD_TOKEN_LABEL}) WHERE token.last_turn_at < datetime() - duration($after) "
             "DELETE token", after=ABANDONED_AFTER)
    return db.write(f"CREATE (token:{LOAD_TOKEN_LABEL} {{next_turn: 0, started_at: datetime(), "
                    "last_turn_at: datetime()}) RETURN elementId(token) AS id")[0]["id"]


def delete_token(token: str) -> None:
    db.write("MATCH (token) WHERE elementId(token) = $token DELETE token", token=token)

"""Turns: the order in which a load's batches write, kept by a token node on the server.

The writer keeps two batches in flight so that the server never waits for the client to pack
and send the next one. Each batch statement first takes the load's token: the token's lock is
held until the batch commits, so batches write one at a time, and a batch whose turn has not
come yet (it overtook its predecessor on the way) writes nothing and is sent again. Entities
thus still precede the relations that need them, and a later row still wins over an earlier one.
"""
from __future__ import annotations

from kb import db
from kb.schema import LOAD_TOKEN_LABEL

# A load whose token has not moved for this long has ended without deleting it (a crash).
ABANDONED_AFTER = "PT10M"

# Setting a property takes the token's write lock first, so next_turn is read after the
# predecessor's commit.
_IN_TURN = ("MATCH (token) WHERE elementId(token) = $token "
            "SET token.last_turn_at = datetime() "
            "WITH token WHERE token.next_turn = $turn "
            "SET token.next_turn = $turn + 1 "
            "WITH token CALL () {{ {statement} }} RETURN true AS in_turn")


def in_turn(statement: str) -> str:
    """The statement, run only when its batch's turn ($turn) has come on the load's token ($token).

    It returns one record when it ran and none when the turn had not come."""
    return _IN_TURN.format(statement=statement)


def create_token() -> str:
    """A new token for a load at its first turn; clears the tokens of loads that ended abruptly."""
    db.write(f"MATCH (token:{LOAD_TOKEN_LABEL}) WHERE token.last_turn_at < datetime() - duration($after) "
             "DELETE token", after=ABANDONED_AFTER)
    return db.write(f"CREATE (token:{LOAD_TOKEN_LABEL} {{next_turn: 0, started_at: datetime(), "
                    "last_turn_at: datetime()}) RETURN elementId(token) AS id")[0]["id"]


def delete_token(token: str) -> None:
    db.write("MATCH (token) WHERE elementId(token) = $token DELETE token", token=token)

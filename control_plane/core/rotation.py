"""Key rotation: re-encrypt every sealed column with the first key (after a new key was put first)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from control_plane.core.config import Settings
from control_plane.core.security import SecretBox

SEALED_COLUMNS = (
    ("deployment", "id", "secrets_sealed"),
    ("revision", "id", "secrets_sealed"),
    ("idempotency_record", "key", "body_sealed"),
)


def rotate_sealed(engine: Engine, settings: Settings, batch: int = 500) -> int:
    box = SecretBox(settings.encryption_key_list)
    done = 0
    with engine.begin() as conn:
        for table, key, column in SEALED_COLUMNS:
            keys = ["scope", "key"] if table == "idempotency_record" else [key]
            rows = conn.execute(
                sa.text(f"SELECT {', '.join(keys)}, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
            ).all()
            for row in rows:
                *ids, sealed = row
                where = " AND ".join(f"{k} = :k{i}" for i, k in enumerate(keys))
                params = {f"k{i}": v for i, v in enumerate(ids)}
                conn.execute(
                    sa.text(f"UPDATE {table} SET {column} = :v WHERE {where}"),  # noqa: S608
                    {**params, "v": box.reseal(sealed)},
                )
                done += 1
    return done

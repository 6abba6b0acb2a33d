"""`guardia audit verify`: the chain, its MACs, and the signed head, checked together.

Editing an entry breaks its hash; rewriting entries with recomputed hashes breaks their
MACs (the key is not in the database); deleting the tail, or the whole table, leaves the
chain short of the signed head.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from cmdb.audit import verify
from cmdb.tables import AuditEvent
from hub.audit.anchor import read_head
from protocol.signing import load_public_key


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


async def verify_anchored(session: AsyncSession, data_dir: Path) -> Verdict:
    key_file, pub_file = data_dir / "audit.key", data_dir / "hub.pub"
    if not key_file.exists() or not pub_file.exists():
        return Verdict(
            False,
            f"audit chain NOT CHECKED: no audit key and hub key in {data_dir} "
            "(set GUARDIA_DATA_DIR to the hub's data directory)",
        )
    count, broken, last = await verify(session, key_file.read_bytes())
    if broken is not None:
        return Verdict(
            False,
            f"audit chain BROKEN at entry {broken.seq} (row id {broken.id}): {broken.reason}; "
            f"{count} entries before it hold",
        )
    try:
        head = read_head(data_dir, load_public_key(pub_file.read_bytes()))
    except ValueError as exc:
        return Verdict(False, f"audit chain BROKEN: {exc}")
    if head is None:
        return Verdict(True, f"audit chain OK: {count} entries (no signed head yet)")
    if last is None or last.seq < head.seq:
        return Verdict(
            False,
            f"audit chain BROKEN: the signed head is entry {head.seq} but the chain ends at "
            f"{0 if last is None else last.seq}: entries were deleted",
        )
    # the head may lag the chain by what was written after it, but it must be on the chain
    entry = (await session.exec(select(AuditEvent).where(AuditEvent.seq == head.seq))).first()
    if entry is None or entry.hash != head.hash:
        return Verdict(
            False, f"audit chain BROKEN: entry {head.seq} is not the one the signed head names"
        )
    return Verdict(True, f"audit chain OK: {count} entries, signed head at entry {head.seq}")

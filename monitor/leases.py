"""Who holds a lease or a claim, and whether that holder still lives. No business logic.

Workers that share one database mark what they are working on with their name: source leases
(`sources.lease_owner`, see `monitor.pipeline`) and outbox claims (`outbox.claim_owner`, see
`monitor.store.outbox`). The default name, `host:pid`, lets a worker on the same host tell
at once that the holder was killed; a holder on another host (or under a configured
`worker_id`) cannot be checked, and its lease or claim is left to expire.
"""

from __future__ import annotations

import os
import socket

__all__ = ["lease_is_dead", "local_worker"]


def local_worker() -> str:
    """This process's name as a holder: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"


def lease_is_dead(owner: str | None) -> bool:
    """A lease or claim held by a process of this host that no longer exists (killed mid-work)."""
    host, _, pid = (owner or "").rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False

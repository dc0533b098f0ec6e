"""Named crash points that only tests switch on.

``CROSSLANE_CRASH_AT=<name>`` makes the process SIGKILL itself when it reaches that point,
so crash tests stop a worker at an exact boundary instead of relying on sleeps. With
``CROSSLANE_CRASH_ONCE_FILE`` set, the first crash creates that file and later passes
(e.g. after the restart) go on. ``CROSSLANE_CRASH_WHEN=<text>`` narrows a point to the
passes whose ``context`` (e.g. the workflow id) contains that text.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path


def crash_point(name: str, context: str = "") -> None:
    if os.environ.get("CROSSLANE_CRASH_AT") != name:
        return
    when = os.environ.get("CROSSLANE_CRASH_WHEN")
    if when and when not in context:
        return
    once = os.environ.get("CROSSLANE_CRASH_ONCE_FILE")
    if once:
        marker = Path(once)
        if marker.exists():
            return
        marker.write_text(name)
    os.kill(os.getpid(), signal.SIGKILL)

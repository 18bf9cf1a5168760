"""Toasts are for what the user just did (a bundle saved by hand, a path copied): one at a time,
short, never markup. A rule's alert never toasts: it goes to the alert bar.

They sit at the top right, on the border line under the header (and the frozen banner), where
they cover no data (``lamptop.tcss`` places them; the screen's ``-banner`` class says whether
the banner takes that line).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

from console.view.alertline import cut_middle
from widgets.banner import FrozenBanner

#: Seconds a toast stays.
TOAST_SECONDS = 4.0
#: The share of the screen's width a toast may take (``max-width`` in ``lamptop.tcss``).
TOAST_WIDTH = 0.7


def toast(
    app: App[Any],
    text: str,
    *,
    severity: SeverityLevel = "information",
    timeout: float = TOAST_SECONDS,
) -> None:
    """Show ``text`` for ``timeout`` seconds in place of any toast still shown, on one line
    (cut in its middle when the screen is too narrow)."""
    screen = app.screen
    text = cut_middle(" ".join(text.split()), max(8, int(app.size.width * TOAST_WIDTH) - 3))
    banner = any(b.has_class("-shown") for b in screen.query(FrozenBanner))
    screen.set_class(banner, "-banner")
    app.clear_notifications()
    app.notify(text, severity=severity, timeout=timeout, markup=False)

"""Toasts are for what the user just did (a bundle saved by hand, a path copied): one at a time,
short, never markup. A rule's alert never toasts: it goes to the alert bar.

They sit at the top right, on the border line under the header (and the frozen banner), where
they cover no data (``lamptop.tcss`` places them; the screen's ``-banner`` class, set by
:class:`~widgets.banner.FrozenBanner`, says whether the banner takes the line under the header).
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.notifications import SeverityLevel

from console.view.alertline import cut_middle

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
    text = cut_middle(" ".join(text.split()), max(8, int(app.size.width * TOAST_WIDTH) - 3))
    for holder in app.screen.query("ToastHolder"):
        holder.remove()  # clearing removes a toast but leaves its holder, a row lower each time
    app.clear_notifications()
    app.notify(text, severity=severity, timeout=timeout, markup=False)

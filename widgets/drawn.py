"""Base widgets that cost little to repaint: kept styles, no links, no repaint without change.

Textual forgets a widget's component class styles on every repaint and works each out again by
walking every ancestor's styles; :class:`PlainWidget` keeps them until the styles change. It
also draws no links, so Textual need not restyle every line of every repaint looking for them.

A new sample arrives every second, but what a pane draws from it often stays the same (an idle
server's scoreboard, a steady memory line). A repaint costs far more than building the text
again, so :class:`DrawnText` widgets build it, compare it with what is on screen, and repaint
only when it differs, and then only the rows that differ. Their reactive attributes are
declared with ``repaint=False`` and their watchers call :meth:`DrawnText.redraw`.
"""

from __future__ import annotations

from rich.style import Style
from rich.text import Text
from textual.app import RenderResult
from textual.geometry import Region, Size
from textual.reactive import Reactive
from textual.strip import Strip
from textual.visual import Visual, visualize
from textual.widget import Widget, _RenderCache


def set_changed(widget: Widget, name: str, value: object) -> None:
    """Assign a reactive only when the value differs (Textual repaints on every change)."""
    if getattr(widget, name) != value:
        setattr(widget, name, value)


def set_title(widget: Widget, title: str, *, subtitle: bool = False) -> None:
    """Set a border title (or subtitle) and repaint only the border row that shows it.

    Textual's ``border_title`` repaints the whole widget on every assignment, and a pane whose
    title counts seconds (the memory pane in its first minute) would be drawn again every
    second for one changed row. This stores the title as Textual's own setter does and asks
    for the row of the border alone; an unchanged title costs nothing."""
    name = "border_subtitle" if subtitle else "border_title"
    if getattr(widget, name) == title:
        return
    if not widget.is_mounted:
        setattr(widget, name, title)
        return
    # what Textual's setter stores (widget._border_title / _border_subtitle): markup rendered
    # to content, tabs expanded, the first line only
    setattr(widget, f"_{name}", widget.render_str(title).expand_tabs(4).split()[0])
    offset = widget.content_offset
    outer = widget.outer_size
    row = outer.height - 1 if subtitle else 0
    # refresh() takes content coordinates: this region lands on the border's row
    widget.refresh(Region(-offset.x, row - offset.y, outer.width, 1))


def changed_rows(old: Text | None, new: Text) -> list[int] | None:
    """The rows where ``new`` differs from ``old``, both drawn one line a row (``no_wrap``);
    None when that cannot be told (nothing drawn yet, lines that wrap, another line count)."""
    if old is None or not (old.no_wrap and new.no_wrap):
        return None
    before, after = old.split("\n", allow_blank=True), new.split("\n", allow_blank=True)
    if len(before) != len(after):
        return None
    return [y for y, (a, b) in enumerate(zip(before, after, strict=True)) if a != b]


class PlainWidget(Widget):
    """A widget drawn with its component class styles and without links."""

    auto_links: Reactive[bool] = Reactive(False)
    """No links are drawn."""

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._kept: dict[tuple[tuple[str, ...], bool], Style] = {}
        """Component class styles by (names, partial), until the styles change."""

    def get_component_rich_style(
        self, *names: str, partial: bool = False, default: Style | None = None
    ) -> Style:
        key = (names, partial)
        style = self._kept.get(key)
        if style is None:
            style = super().get_component_rich_style(*names, partial=partial, default=default)
            self._kept[key] = style
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._kept.clear()


class DrawnText(PlainWidget):
    """Base for widgets whose whole content is the :class:`Text` that :meth:`draw` returns."""

    def __init__(self, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self._drawn: Text | None = None
        """What the last :meth:`render` drew."""
        self._fresh: tuple[Size, Text] | None = None
        """What :meth:`redraw` built for the repaint it asked for, at the size it had."""

        self._strips: dict[tuple[object, ...], Strip] = {}
        """Rendered lines by their text, at the width and style they were rendered for."""
        self._strips_for: tuple[object, ...] | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._fresh = None
        self._strips.clear()

    def _render_content(self) -> None:
        """Render line by line, each line once: a repaint that asks for one changed row would
        otherwise turn every line of the pane into strips again. Textual's own path when a
        line could depend on the others (a selection, wrapping, alignment)."""
        text = self.render()
        width, height = self.size
        if (
            not isinstance(text, Text)
            or not text.no_wrap
            or self.text_selection is not None
            or self.styles.content_align != ("left", "top")
        ):
            super()._render_content()
            return
        style = self.visual_style
        kind = (width, style)
        if self._strips_for != kind or len(self._strips) > 4 * max(height, 16):
            self._strips.clear()
            self._strips_for = kind
        strips: list[Strip] = []
        for line in text.split("\n", allow_blank=True)[:height]:
            key = (line.plain, tuple(line.spans), line.style, line.overflow)
            strip = self._strips.get(key)
            if strip is None:
                visual: Visual = visualize(self, line)
                strip = Visual.to_strips(self, visual, width, 1, style)[0]
                self._strips[key] = strip
            strips.append(strip)
        self._render_cache = _RenderCache(self.size, strips)
        self._dirty_regions.clear()

    def draw(self) -> Text:
        """The content at the widget's current size."""
        raise NotImplementedError

    def render(self) -> RenderResult:
        fresh, self._fresh = self._fresh, None
        if fresh is None or fresh[0] != self.size:
            self._drawn = self.draw()
        else:
            self._drawn = fresh[1]
        return self._drawn

    def redraw(self) -> None:
        """Repaint when what :meth:`draw` gives now differs from what is on screen; the
        repaint uses the text built here, so it is built once. A hidden widget (``display:
        none``) builds nothing: it is drawn afresh when shown."""
        if not self.display:
            self._drawn = self._fresh = None
            return
        # against the text a repaint already asked for waits to draw, if any: several figures
        # assigned in one beat then ask only for the rows each of them changed
        pending = self._fresh
        text = self.draw()
        old = pending[1] if pending is not None and pending[0] == self.size else self._drawn
        if old is not None and text == old:
            return
        self._fresh = (self.size, text)
        rows = changed_rows(old, text)
        if rows is None:
            self.refresh()
        else:  # the rows that changed, not the pane: the rest of it is not drawn again
            width = self.size.width
            self.refresh(*(Region(0, y, width, 1) for y in rows))

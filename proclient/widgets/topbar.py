"""The bar on top of every screen: where we are, the DMP service's state, and DÉMONSTRATION
when it is the demo.

Where we are comes first: when the terminal is too narrow for the three (60 columns), the
service's state and the demo mark shorten (« DMP joignable », « DÉMO »), then the title takes a
second line rather than being cut (« Étape 3/4 — » alone said nothing)."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from proclient.core.i18n import _


class TopBar(Horizontal):
    DEFAULT_CSS = """
    TopBar { height: auto; background: $primary; color: $text; }
    TopBar #where { width: 1fr; height: auto; padding: 0 1; text-style: bold; }
    TopBar #service { width: auto; padding: 0 1; }
    TopBar #demo { width: auto; padding: 0 1; background: $warning; color: $background;
                   text-style: bold; }
    """

    def __init__(self, where: str, demo: bool, service: str = "") -> None:
        """``service``: the DMP service's state in words when the screen is made."""
        super().__init__()
        self._where, self._demo, self._service = where, demo, service
        self._short = False

    def compose(self) -> ComposeResult:
        yield Static(self._where, id="where", markup=False)
        yield Static(self._service_text(), id="service", markup=False).set_styles(
            display="block" if self._service else "none"
        )
        if self._demo:
            yield Static(_("DÉMONSTRATION"), id="demo")

    def _service_text(self) -> str:
        if not self._service:
            return ""
        if self._short:
            return _("DMP {state}", state=self._service)
        return _("Service DMP : {state}", state=self._service)

    def _fits(self, width: int, short: bool) -> bool:
        """Whether the title, the service's state and the demo mark fit on one line."""
        service = (
            _("DMP {state}", state=self._service)
            if short
            else _("Service DMP : {state}", state=self._service)
        )
        demo = (_("DÉMO") if short else _("DÉMONSTRATION")) if self._demo else ""
        parts = [self._where, service if self._service else "", demo]
        return sum(len(part) + 2 for part in parts if part) <= width

    def on_resize(self, event: events.Resize) -> None:
        self._layout(event.size.width)

    def _layout(self, width: int) -> None:
        if not width:
            return
        self._short = not self._fits(width, short=False)
        self.query_one("#service", Static).update(self._service_text())
        if self._demo:
            self.query_one("#demo", Static).update(_("DÉMO") if self._short else _("DÉMONSTRATION"))

    def show_service(self, label: str) -> None:
        """The service's state in words (joignable, injoignable depuis HH:MM, inconnu)."""
        self._service = label
        service = self.query_one("#service", Static)
        service.display = bool(label)
        self._layout(self.size.width)

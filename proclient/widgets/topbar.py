"""The bar on top of every screen: where we are, and DÉMONSTRATION when it is the demo."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Static

from proclient.core.i18n import _


class TopBar(Horizontal):
    DEFAULT_CSS = """
    TopBar { height: 1; background: $primary; color: $text; }
    TopBar #where { width: 1fr; padding: 0 1; text-style: bold; }
    TopBar #service { width: auto; padding: 0 1; }
    TopBar #demo { width: auto; padding: 0 1; background: $warning; color: $background;
                   text-style: bold; }
    """

    def __init__(self, where: str, demo: bool, service: str = "") -> None:
        """``service``: the DMP service's state in words when the screen is made."""
        super().__init__()
        self._where, self._demo, self._service = where, demo, service

    def compose(self) -> ComposeResult:
        yield Static(self._where, id="where")
        label = self._service
        yield Static(self._service_text(label), id="service").set_styles(
            display="block" if label else "none"
        )
        if self._demo:
            yield Static(_("DÉMONSTRATION"), id="demo")

    @staticmethod
    def _service_text(label: str) -> str:
        return _("Service DMP : {state}", state=label) if label else ""

    def show_service(self, label: str) -> None:
        """The service's state in words (joignable, injoignable depuis HH:MM, inconnu)."""
        service = self.query_one("#service", Static)
        service.update(self._service_text(label))
        service.display = bool(label)

"""The keys line at the bottom. Textual's Footer rebuilds its widgets on every screen switch
(about 60 ms each on the plant's 2 cores, measured by bench/tui.py); this line is made from the
same bindings once per width, so switching stays cheap. Under 110 columns it goes compact, so
`? help` and `q quit` are always on screen at 80×24."""
from __future__ import annotations

from textual.widgets import Static

SCREEN_KEYS = ("1", "2", "3", "4")


class KeyLine(Static):
    DEFAULT_CSS = """
    KeyLine { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.show_keys()

    def on_resize(self) -> None:
        self.show_keys()

    def show_keys(self) -> None:
        compact = self.app.size.width < 110
        keys, seen = [], set()
        for binding in [*self.screen.BINDINGS, *self.app.BINDINGS]:
            if not binding.show or binding.description in seen:
                continue
            seen.add(binding.description)
            label = binding.key_display or binding.key.split(",")[0]
            if compact and label in SCREEN_KEYS:
                if label == "1":
                    keys.append("[b]1-4[/b] screens")
                continue
            words = binding.description.lower().split()[0] if compact else binding.description
            keys.append(f"[b]{label}[/b] {words}")
        keys.append("[b]^p[/b] palette" if not compact else "[b]^p[/b] more")
        self.update("  ".join(keys))

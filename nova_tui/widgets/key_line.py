"""The keys line at the bottom. Textual's Footer rebuilds its widgets on every screen switch
(about 60 ms each on the plant's 2 cores, measured by bench/tui.py); this line is made from the
same bindings once per width, so switching stays cheap.

It always fits its width: the full descriptions first; if they do not fit, one-word ones with the
screen keys folded into `1-7 screens`; if still too long, the least needed keys are dropped from
the right of the screen's own keys. `? help`, `q quit` and `^p palette` are always shown, whole.
Keys whose action means nothing now (the screens, before a version is open) are not shown."""
from __future__ import annotations

import re

from textual.widgets import Static

SCREEN_KEYS = ("1", "2", "3", "4", "5", "6", "7")
ALWAYS = ("?", "q")  # shown whatever the width, with ^p palette after them


def _plain(markup: str) -> int:
    return len(re.sub(r"\[/?b\]", "", markup))


def fit(entries: list[tuple[str, str, str]], width: int) -> str:
    """entries: (key label, full description, short description), in the bindings' order."""
    palette = "[b]^p[/b] palette"
    for compact in (False, True):
        keys, folded = [], False
        for label, full, short in entries:
            if compact and label in SCREEN_KEYS:
                if not folded:
                    keys.append(f"[b]1-{SCREEN_KEYS[-1]}[/b] screens")
                    folded = True
                continue
            keys.append(f"[b]{label}[/b] {short if compact else full}")
        line = "  ".join(keys + [palette])
        if _plain(line) <= width:
            return line
    # still too wide: drop the screen's own keys from the right, keep help, quit and the palette
    essential = [k for k in keys if re.sub(r"\[/?b\]", "", k).split(" ")[0] in ALWAYS]
    optional = [k for k in keys if k not in essential]
    while optional and _plain("  ".join(optional + essential + [palette])) > width:
        optional.pop()
    return "  ".join(optional + essential + [palette])


class KeyLine(Static):
    DEFAULT_CSS = """
    KeyLine { dock: bottom; height: 1; background: $footer-background; color: $footer-foreground; padding: 0 1; }
    """

    def on_mount(self) -> None:
        self.show_keys()

    def on_resize(self) -> None:
        self.show_keys()

    def entries(self) -> list[tuple[str, str, str]]:
        out, seen = [], set()
        for node, bindings in ((self.screen, self.screen.BINDINGS), (self.app, self.app.BINDINGS)):
            for binding in bindings:
                if not binding.show or binding.description in seen:
                    continue
                if node.check_action(binding.action.split("(")[0], ()) is False:
                    continue
                seen.add(binding.description)
                label = binding.key_display or binding.key.split(",")[0]
                out.append((label, binding.description, binding.description.lower().split()[0]))
        return out

    def show_keys(self) -> None:
        self.update(fit(self.entries(), max(20, self.app.size.width - 2)))

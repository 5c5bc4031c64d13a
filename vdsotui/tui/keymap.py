"""The key -> action table, in the spirit of htop's Action.c.

One row per action: the keys, the action name (an `action_*` method of the
app), a short label for the footer, a longer description for the help
screen and the command palette, and the group it is listed under.  The
bindings, the footer, the help screen and the palette are all built from
this table, so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True, slots=True)
class KeyAction:
    keys: str  # comma-separated Textual key names
    action: str
    label: str
    description: str
    group: str
    footer: bool = True  # shown in the footer (all are on the help screen)
    palette: bool = True  # offered in the command palette
    # Seen by the App before the focused widget gets the keys after it; the
    # App's check_action says where it applies.
    priority: bool = False

    @property
    def display_keys(self) -> str:
        return " ".join(_KEY_NAMES.get(k, k) for k in self.keys.split(","))


_KEY_NAMES = {
    "question_mark": "?",
    "slash": "/",
    "space": "Space",
    "escape": "Esc",
    "enter": "Enter",
    "less_than_sign": "<",
    "greater_than_sign": ">",
    "f1": "F1",
    "ctrl+p": "^p",
}

ACTIONS: tuple[KeyAction, ...] = (
    KeyAction(
        "m", "move", "Move", "Move the vdso block of the selected (or tagged) processes", "Act"
    ),
    KeyAction("t", "switch_type", "Type", "Switch the vdso type of the selected process", "Act"),
    KeyAction("space", "toggle_tag", "Tag", "Tag or untag the selected process", "Act"),
    KeyAction("U", "untag_all", "Untag", "Untag every process", "Act", footer=False),
    KeyAction(
        "slash",
        "filter",
        "Filter",
        "Filter the table (text, pid:N, user:, mode:, type:, state:, ~regex, !not)",
        "View",
        # Keys typed in the same burst must reach the filter box, not the
        # table: focus has to move before the App forwards the next key.
        priority=True,
    ),
    KeyAction(
        "u",
        "user_filter",
        "User",
        "Show only one user's processes (a list of the users seen), as in htop",
        "View",
        footer=False,
    ),
    KeyAction(
        "K",
        "toggle_kthreads",
        "Kthreads",
        "Show or hide kernel threads (hidden at start, as in htop)",
        "View",
        footer=False,
    ),
    KeyAction(
        "v",
        "toggle_vdso_only",
        "vdso only",
        "Show only processes with a vdso mapped, or every process",
        "View",
        footer=False,
    ),
    KeyAction("escape", "clear_filter", "Clear", "Clear the filter", "View", footer=False),
    KeyAction("greater_than_sign", "sort_next", "Sort", "Sort by the next column", "View"),
    KeyAction(
        "less_than_sign",
        "sort_prev",
        "Sort back",
        "Sort by the previous column",
        "View",
        footer=False,
    ),
    KeyAction("I", "sort_invert", "Invert", "Invert the sort order", "View", footer=False),
    KeyAction(
        "T",
        "toggle_tree",
        "Tree",
        "Show the processes as a tree by parent (siblings by the sort column)",
        "View",
        footer=False,
    ),
    KeyAction(
        "F",
        "follow",
        "Follow",
        "Follow the selected process: keep the cursor on it, say when it exits",
        "View",
        footer=False,
    ),
    KeyAction("d", "toggle_detail", "Detail", "Show or hide the detail pane", "View"),
    KeyAction(
        "l",
        "toggle_layouts",
        "Layouts",
        "Show or hide the vdso layouts panel",
        "View",
        footer=False,
    ),
    KeyAction("r", "refresh", "Refresh", "Rescan the processes now", "Refresh"),
    KeyAction("p", "pause", "Pause", "Pause or resume the automatic refresh", "Refresh"),
    KeyAction("i", "interval", "Interval", "Change the refresh interval", "Refresh", footer=False),
    KeyAction("e", "export", "Export", "Export the shown rows as JSON", "Other", footer=False),
    KeyAction(
        "question_mark,f1", "help", "Help", "Show the keys and what the states mean", "Other"
    ),
    KeyAction(
        "ctrl+p",
        "command_palette",
        "Palette",
        "Open the command palette",
        "Other",
        footer=False,
        palette=False,
    ),
    KeyAction("q", "quit", "Quit", "Quit vdsotui", "Other"),
)


def bindings() -> list[BindingType]:
    return [
        Binding(
            a.keys,
            a.action,
            a.label,
            show=a.footer,
            tooltip=a.description,
            priority=a.priority,
        )
        for a in ACTIONS
        # The palette binding is the App's own (ctrl+p); no need to repeat it.
        if a.action != "command_palette"
    ]


def by_action(action: str) -> KeyAction:
    for a in ACTIONS:
        if a.action == action:
            return a
    raise KeyError(action)

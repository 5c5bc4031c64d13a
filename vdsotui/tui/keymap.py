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

from vdsotui.tui.columns import COLUMNS


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
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "ctrl+p": "^p",
    **{f"f{n}": f"F{n}" for n in range(1, 13)},
}

ACTIONS: tuple[KeyAction, ...] = (
    KeyAction(
        "m", "move", "Move", "Move the vdso block of the selected (or tagged) processes", "Act"
    ),
    KeyAction("t", "switch_type", "Type", "Switch the vdso type of the selected process", "Act"),
    KeyAction("space", "toggle_tag", "Tag", "Tag or untag the selected process", "Act"),
    KeyAction("U", "untag_all", "Untag", "Untag every process", "Act", footer=False),
    KeyAction(
        "slash,f4",
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
    KeyAction(
        "f3",
        "search",
        "Search",
        "Search: the cursor jumps to the next row that matches (filter syntax); "
        "F3 again finds the next",
        "View",
        footer=False,
        priority=True,  # as for "/": the keys typed after it go to the box
    ),
    KeyAction("escape", "clear_filter", "Clear", "Clear the filter", "View", footer=False),
    KeyAction("f6", "sort_menu", "Sort", "Choose the sort column from a list", "View"),
    KeyAction(
        "greater_than_sign",
        "sort_next",
        "Sort next",
        "Sort by the next column",
        "View",
        footer=False,
    ),
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
        "T,f5",
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
    KeyAction("d", "toggle_detail", "Detail", "Show or hide the detail pane", "View", footer=False),
    KeyAction(
        "right_square_bracket",
        "widen_side",
        "Wider",
        "Widen the detail and layouts panes (the table gives way)",
        "View",
        footer=False,
    ),
    KeyAction(
        "left_square_bracket",
        "narrow_side",
        "Narrower",
        "Narrow the detail and layouts panes (the table gains)",
        "View",
        footer=False,
    ),
    KeyAction(
        "l",
        "toggle_layouts",
        "Layouts",
        "Show or hide the vdso layouts panel",
        "View",
        footer=False,
    ),
    # The footer fits 80 columns with Help and Quit: the rest is on the help
    # screen and in the palette.
    KeyAction("r", "refresh", "Refresh", "Rescan the processes now", "Refresh", footer=False),
    KeyAction(
        "p", "pause", "Pause", "Pause or resume the automatic refresh", "Refresh", footer=False
    ),
    KeyAction("i", "interval", "Interval", "Change the refresh interval", "Refresh", footer=False),
    KeyAction("e", "export", "Export", "Export the shown rows as JSON", "Other", footer=False),
    KeyAction(
        "L",
        "action_log",
        "Log",
        "Show the action log: every move, switch, refusal and death, with its time",
        "Other",
        footer=False,
    ),
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
    KeyAction("q,f10", "quit", "Quit", "Quit vdsotui", "Other"),
)


@dataclass(frozen=True, slots=True)
class HtopKey:
    """A key htop users know that does something else here, or nothing."""

    key: str
    in_htop: str
    here: str  # what the key does in vdsotui, and why


HTOP_KEYS: tuple[HtopKey, ...] = (
    HtopKey(
        "F9 k",
        "kill",
        "not offered: vdsotui never sends a signal; m moves the tagged processes",
    ),
    HtopKey("t", "tree view", "switch type (T and F5 are the tree): t is what one acts with"),
    HtopKey("/", "search", "filter, as in less and most TUIs; F3 searches"),
    HtopKey("e", "environment", "export: a process's environment is not a vdso fact"),
    HtopKey("l", "lsof", "the layouts panel: open files are not a vdso fact"),
    HtopKey("m", "merged command", "move: the action this console is for"),
    HtopKey("p", "program path", "pause the refresh (htop's Z); COMMAND shows the path"),
    HtopKey("i", "I/O priority", "refresh interval: vdsotui changes no priority"),
    HtopKey("F2 F7 F8", "setup, nice", "not offered: nothing to set up, no priority to change"),
)


def sort_commands() -> tuple[tuple[str, str, str], ...]:
    """The palette's "Sort by X", one per column: (title, help, column key)."""
    return tuple(
        (f"Sort by {c.label}", f"sort the table by its {c.label} column (F6 lists them)", c.key)
        for c in COLUMNS
    )


def bindings() -> list[BindingType]:
    """One binding per key, named as the help screen names it ("F6", not
    "f6"); the footer shows an action once, by its first key."""
    return [
        Binding(
            key,
            a.action,
            a.label,
            show=a.footer and i == 0,
            key_display=_KEY_NAMES.get(key, key),
            tooltip=a.description,
            priority=a.priority,
        )
        for a in ACTIONS
        # The palette binding is the App's own (ctrl+p); no need to repeat it.
        if a.action != "command_palette"
        for i, key in enumerate(a.keys.split(","))
    ]


def by_action(action: str) -> KeyAction:
    for a in ACTIONS:
        if a.action == action:
            return a
    raise KeyError(action)

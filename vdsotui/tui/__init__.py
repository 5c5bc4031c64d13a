"""The Textual console of vdsotui: app, screens, widgets and its key table."""

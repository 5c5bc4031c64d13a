"""vdsotui: see and move a process's vDSO."""

__version__ = "0.1.0"

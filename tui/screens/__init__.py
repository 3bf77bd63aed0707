"""Screens of the keyholders' TUI (one per mode, plus dialogs and the QR player)."""

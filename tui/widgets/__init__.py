"""Widgets of the keyholders' TUI."""

"""cerro_torre.tui"""

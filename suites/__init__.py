"""cerro_torre.suites"""

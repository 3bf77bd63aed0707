"""cerro_torre.cli"""

"""cerro_torre.ceremony"""

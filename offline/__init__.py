"""cerro_torre.offline"""

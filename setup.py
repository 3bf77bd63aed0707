from setuptools import setup

setup(cffi_modules=["suites/frost/_build.py:ffibuilder"])

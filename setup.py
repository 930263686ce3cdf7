"""Only here to build the C engine: cffi's setuptools hook compiles
native/engine/*.c into tspasm.engine._tsp_engine.  Everything else about the
package lives in pyproject.toml."""
from setuptools import setup

setup(cffi_modules=["tspasm/engine/_build.py:ffibuilder"])

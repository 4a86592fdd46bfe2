"""The Python binding's tests (unittest): python3 -m unittest discover -s tests
from python/, or ctest -R python in the native build (docs/python.md)."""

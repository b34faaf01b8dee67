"""The benchmark harness (`make bench`): see run.py and the README's Performance section."""

# On PYTHONPATH in CI's Colab leg: Colab's kernel has google.colab imported before any cell runs.
import google.colab  # noqa: F401

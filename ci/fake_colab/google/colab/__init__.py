"""Stands in for Colab's own module in CI, so the notebook's install cell takes its Colab branch."""

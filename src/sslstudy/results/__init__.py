"""Stored results of the course's longer runs, one ``<week>.json`` per week (schema: :mod:`sslstudy.report`).

Shipped as package data, so ``report.stored("week08_simclr")`` finds them on Colab and in any pip install.
"""

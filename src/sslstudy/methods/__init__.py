"""One module per paper, each exported from its week's code-analysis notebook by `make export`.

Do not edit these modules by hand: edit the notebook's `#| export` cells, then run `make export`
(a test fails when a module and its notebook differ).
"""

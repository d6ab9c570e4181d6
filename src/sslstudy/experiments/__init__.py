"""Experiment code of the course's weeks: settings tables, shared starting points and ablation drivers.

The method modules (``sslstudy.methods.<name>``) hold only what a paper defines and are generated from the
code-analysis notebooks; what a week's notebook and its scripts share to *run* experiments lives here, one
module per week (``sslstudy.experiments.dec``). It is part of the installed package, so a notebook on Colab
imports it as it imports the methods.
"""

"""Checkers of the exercises in ``week07_swav/07_swav_code_analysis.ipynb`` (solutions: ``solutions/``)."""
import math

import torch

from sslstudy.exercises import exercise


@exercise("week07_swav_code.n_terms",
          hint="each of the 2 assignment crops is predicted by every OTHER crop: 6 crops − 1 = 5 predictors each; "
               "of those 5, the 4 small crops are small (crop 1 predicts crop 0 and crop 0 predicts crop 1).")
def n_terms(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("the answer is a pair of ints: (terms in total, terms with a small-crop predictor).")
    total, small = answer
    if (total, small) == (12, 8):
        raise AssertionError("a crop never predicts its own code: the official loop deletes crop_id itself.")
    return (total, small) == (10, 8)


@exercise("week07_swav_code.allreduce_rows",
          hint="the row (prototype) sums run over the GLOBAL batch: exp(scores/ε) summed over the 8 rows of rank 0 "
               "plus the 8 rows of rank 1, i.e. torch.exp(scores / epsilon).sum(0) over all 16 rows.")
def allreduce_rows(answer, scores, epsilon):
    if not isinstance(answer, torch.Tensor) or answer.shape != (scores.shape[1],):
        raise AssertionError(f"the answer is a ({scores.shape[1]},) tensor: one sum per prototype.")
    half = torch.exp(scores[:8].double() / epsilon).sum(0)
    if torch.allclose(answer.double(), half, rtol=1e-4):
        raise AssertionError("that is rank 0's local sum; all_reduce adds rank 1's rows too.")
    return bool(torch.allclose(answer.double(), torch.exp(scores.double() / epsilon).sum(0), rtol=1e-4))


@exercise("week07_swav_code.collapse_level",
          hint="identical features → identical score rows → the only equal partition is the uniform code 1/K, and "
               "the prediction softmax of identical scores is uniform too: −Σ (1/K) log(1/K) = ln K, whatever T.")
def collapse_level(answer):
    if not isinstance(answer, (tuple, list)) or len(answer) != 2:
        raise AssertionError("the answer is a pair of floats: (loss with K = 3000, loss with K = 100).")
    a, b = (float(v) for v in answer)
    return math.isclose(a, math.log(3000), rel_tol=1e-4) and math.isclose(b, math.log(100), rel_tol=1e-4)

import pytest
import torch

from sslstudy import distributed


def _gather_sum(rank, world, x_all):
    x = x_all[rank].clone().requires_grad_(True)
    g = distributed.all_gather_with_grad(x)
    ng = distributed.all_gather_no_grad(x)
    loss = (g ** 2).sum() * (rank + 1)       # every rank's loss touches every slice
    loss.backward()
    return {"gathered": g.detach(), "no_grad": ng, "grad": x.grad, "requires_grad": ng.requires_grad}


def test_all_gather_with_grad_matches_single_process():
    torch.manual_seed(0)
    x_all = torch.randn(2, 3, 4)
    out = distributed.run_in_processes(_gather_sum, world_size=2, args=(x_all,), timeout_s=60)
    whole = x_all.reshape(6, 4)
    for r in range(2):
        assert torch.allclose(out[r]["gathered"], whole) and torch.allclose(out[r]["no_grad"], whole)
        assert not out[r]["requires_grad"]
        # d/dx_r of Σ_ranks (rank+1)·Σ g² = (1 + 2)·2·x_r
        assert torch.allclose(out[r]["grad"], 3 * 2 * x_all[r])


def _fails(rank, world):
    if rank == 1:
        raise RuntimeError("boom in rank 1")
    return rank


def test_failure_in_a_rank_is_reported():
    with pytest.raises(RuntimeError, match="boom in rank 1"):
        distributed.run_in_processes(_fails, world_size=2, timeout_s=30)


def test_single_process_fallbacks():
    x = torch.randn(3, 2, requires_grad=True)
    assert distributed.all_gather_with_grad(x) is x
    assert not distributed.all_gather_no_grad(x).requires_grad
    assert distributed.world_size() == 1 and distributed.rank() == 0
    with pytest.raises(ValueError, match="world_size=0 is not allowed"):
        distributed.run_in_processes(_fails, world_size=0)

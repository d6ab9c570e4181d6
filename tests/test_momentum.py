"""Unit tests of sslstudy.momentum: MoCo's EMA over parameters only, the initial copy, the key queue."""
import io

import pytest
import torch
import torch.nn as nn

from sslstudy import momentum


def _net(seed):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))


def test_ema_formula_on_parameters():
    target, online = _net(0), _net(1)
    before = [p.detach().clone() for p in target.parameters()]
    m = 0.9
    momentum.ema_update_(target, online, m)
    for pk, pk0, pq in zip(target.parameters(), before, online.parameters()):
        assert torch.allclose(pk, m * pk0 + (1 - m) * pq, atol=1e-7)
    momentum.ema_update_(target, online, 0.0)                   # m = 0 copies
    assert all(torch.equal(pk, pq) for pk, pq in zip(target.parameters(), online.parameters()))
    frozen = [p.detach().clone() for p in target.parameters()]
    momentum.ema_update_(target, _net(2), 1.0)                  # m = 1 freezes
    assert all(torch.equal(pk, p0) for pk, p0 in zip(target.parameters(), frozen))


def test_ema_leaves_buffers_alone():
    target, online = _net(0), _net(1)
    online.train()(torch.randn(32, 4) * 3 + 2)                  # the online BN gathers its own statistics
    bn_t, bn_q = target[1], online[1]
    assert not torch.equal(bn_t.running_mean, bn_q.running_mean)
    mean, var, count = bn_t.running_mean.clone(), bn_t.running_var.clone(), bn_t.num_batches_tracked.clone()
    momentum.ema_update_(target, online, 0.5)
    assert torch.equal(bn_t.running_mean, mean) and torch.equal(bn_t.running_var, var)
    assert torch.equal(bn_t.num_batches_tracked, count)
    assert not torch.equal(target[0].weight, _net(0)[0].weight)          # while the parameters moved


def test_ema_keeps_no_graph_and_needs_no_grad():
    target, online = _net(0), _net(1)
    momentum.copy_params_(target, online)
    loss = online(torch.randn(5, 4)).sum()
    momentum.ema_update_(target, online, 0.99)                 # before backward: builds no graph
    loss.backward()
    assert all(p.grad is None for p in target.parameters())
    assert all(not p.requires_grad for p in target.parameters())


def test_copy_params_initialises_and_freezes_the_target():
    target, online = _net(0), _net(1)
    momentum.copy_params_(target, online)
    assert all(torch.equal(pk, pq) and not pk.requires_grad for pk, pq in zip(target.parameters(),
                                                                               online.parameters()))
    assert all(pq.requires_grad for pq in online.parameters())
    online[0].weight.data.add_(1.0)                            # a copy, not shared storage
    assert not torch.equal(target[0].weight, online[0].weight)


def test_mismatched_modules_are_refused():
    with pytest.raises(ValueError, match="same architecture: target has 4 parameter tensors, online has 2"):
        momentum.ema_update_(nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)), nn.Linear(2, 2), 0.9)
    with pytest.raises(ValueError, match=r"parameter 'weight' has shape \(3, 2\) in target and \(2, 2\)"):
        momentum.copy_params_(nn.Linear(2, 3), nn.Linear(2, 2))
    with pytest.raises(ValueError, match=r"m=1\.5 is not allowed"):
        momentum.ema_update_(_net(0), _net(1), 1.5)


def test_queue_starts_with_random_unit_keys():
    q = momentum.KeyQueue(8, 12, seed=0)
    assert q.keys.shape == (12, 8) and q.ptr.dtype == torch.long and int(q.ptr) == 0
    assert torch.allclose(q.keys.norm(dim=1), torch.ones(12))
    assert torch.equal(q.keys, momentum.KeyQueue(8, 12, seed=0).keys)
    assert not torch.equal(q.keys, momentum.KeyQueue(8, 12, seed=1).keys)
    assert sorted(dict(q.named_buffers())) == ["keys", "ptr"] and len(q) == 12


def test_queue_wraps_around_and_overwrites_the_oldest():
    q = momentum.KeyQueue(3, 6, seed=0)
    batches = [torch.full((2, 3), float(i)) for i in range(1, 5)]
    for i, k in enumerate(batches[:3]):
        q.enqueue(k)
        assert int(q.ptr) == (2 * (i + 1)) % 6
    assert int(q.ptr) == 0                                     # back to the start after K / B batches
    assert torch.equal(q.keys, torch.cat(batches[:3]))
    q.enqueue(batches[3])                                      # overwrites the oldest batch (rows 0-1)
    assert torch.equal(q.keys, torch.cat([batches[3], batches[1], batches[2]])) and int(q.ptr) == 2


def test_queue_size_must_be_a_multiple_of_the_batch():
    q = momentum.KeyQueue(3, 10)
    msg = (r"queue size K=10 is not a multiple of the batch size B=4: MoCo's _dequeue_and_enqueue needs "
           r"K % B == 0; choose K = 8 or 12\.")
    with pytest.raises(ValueError, match=msg):
        q.enqueue(torch.randn(4, 3))
    with pytest.raises(ValueError, match=r"K=10 .* B=16: .* choose K = 16\."):
        q.enqueue(torch.randn(16, 3))
    with pytest.raises(ValueError, match=r"keys of shape \(B, 3\); got shape \(4, 5\)"):
        q.enqueue(torch.randn(4, 5))
    with pytest.raises(ValueError, match=r"size=0 is not allowed"):
        momentum.KeyQueue(3, 0)


class _Holder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Linear(3, 3)
        self.queue = momentum.KeyQueue(3, 8)


def test_queue_checkpoint_round_trip():
    q = momentum.KeyQueue(3, 8, seed=0)
    q.enqueue(torch.randn(2, 3))
    q.enqueue(torch.randn(2, 3))
    fresh = momentum.KeyQueue(3, 8, seed=5)
    fresh.load_state_dict(q.state_dict())
    assert torch.equal(fresh.keys, q.keys) and int(fresh.ptr) == 4

    holder = _Holder()
    holder.queue.enqueue(torch.randn(4, 3))
    assert {"queue.keys", "queue.ptr"} <= set(holder.state_dict())
    buf = io.BytesIO()
    torch.save(holder.state_dict(), buf)
    buf.seek(0)
    restored = _Holder()
    restored.load_state_dict(torch.load(buf))
    assert torch.equal(restored.queue.keys, holder.queue.keys) and int(restored.queue.ptr) == 4
    restored.queue.enqueue(torch.zeros(4, 3))                  # continues at the saved pointer
    assert int(restored.queue.ptr) == 0 and torch.equal(restored.queue.keys[4:], torch.zeros(4, 3))

"""Unit tests of sslstudy.heads: SimCLR's g moved unchanged, and the MoCo v2 / BYOL / SimSiam heads."""
import pytest
import torch
import torch.nn as nn

from sslstudy import heads
from sslstudy.methods import simclr


@pytest.mark.parametrize("kwargs", [dict(), dict(hidden_dim=24, out_dim=8, num_layers=3), dict(use_bn=False),
                                    dict(num_layers=1)])
def test_projection_head_is_simclrs_unchanged(kwargs):
    torch.manual_seed(0)
    old = simclr.ProjectionHead(16, **kwargs)
    torch.manual_seed(0)
    new = heads.ProjectionHead(16, **kwargs)
    a, b = old.state_dict(), new.state_dict()
    assert list(a) == list(b)                                    # same keys, same order: net.0.weight, …
    assert all(torch.equal(a[key], b[key]) for key in a)
    assert [p.requires_grad for p in old.parameters()] == [p.requires_grad for p in new.parameters()]
    x = torch.randn(6, 16)
    out = new(x)
    assert torch.equal(old(x), out) and out.shape == (6, new.out_dim)       # train mode: BN batch statistics
    assert all(torch.equal(old.state_dict()[key], new.state_dict()[key]) for key in a)    # running stats too
    old.load_state_dict(new.state_dict())                       # checkpoints load across the move


def test_projection_head_last_bn_has_no_centre():
    head = heads.ProjectionHead(8, out_dim=4)
    last = head.net[-1]
    assert isinstance(last, nn.BatchNorm1d) and not last.bias.requires_grad and last.weight.requires_grad
    assert "net.0.weight" in head.state_dict() and "net.0.bias" not in head.state_dict()


def _shapes(module):
    return [tuple(m.weight.shape) for m in module.modules() if isinstance(m, nn.Linear)]


def test_paper_default_widths():
    with torch.device("meta"):                                  # the paper's widths, without allocating them
        assert _shapes(heads.MoCoV2Head()) == [(2048, 2048), (128, 2048)]
        assert _shapes(heads.BYOLProjector()) == [(4096, 2048), (256, 4096)]
        assert _shapes(heads.BYOLPredictor()) == [(4096, 256), (256, 4096)]
        assert _shapes(heads.SimSiamProjector()) == [(2048, 2048), (2048, 2048), (2048, 2048)]
        assert _shapes(heads.SimSiamPredictor()) == [(512, 2048), (2048, 512)]


@pytest.mark.parametrize("make, in_dim, out_dim", [
    (lambda: heads.MoCoV2Head(12, 20, 6), 12, 6),
    (lambda: heads.BYOLProjector(12, 20, 6), 12, 6),
    (lambda: heads.BYOLPredictor(6, 20, 6), 6, 6),
    (lambda: heads.SimSiamProjector(12, 20, 10), 12, 10),
    (lambda: heads.SimSiamProjector(12, out_dim=10, num_layers=2), 12, 10),
    (lambda: heads.SimSiamPredictor(10, 4), 10, 10),
])
def test_small_widths_and_output_shapes(make, in_dim, out_dim):
    head = make()
    out = head(torch.randn(8, in_dim))
    assert out.shape == (8, out_dim) and head.out_dim == out_dim
    out.sum().backward()
    assert all(p.grad is not None for p in head.parameters() if p.requires_grad)


def test_layer_structure_follows_the_official_code():
    moco = heads.MoCoV2Head(8, 16, 4)
    assert [type(m) for m in moco.net] == [nn.Linear, nn.ReLU, nn.Linear]
    assert all(m.bias is not None for m in moco.net if isinstance(m, nn.Linear))
    byol = heads.BYOLProjector(8, 16, 4)
    assert [type(m) for m in byol.net] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert byol.net[0].bias is not None and byol.net[3].bias is None          # networks.py: with_bias=False
    proj = heads.SimSiamProjector(8, 16, 4)
    hidden = [nn.Linear, nn.BatchNorm1d, nn.ReLU]
    assert [type(m) for m in proj.net] == hidden * 2 + [nn.Linear, nn.BatchNorm1d]
    assert proj.net[0].bias is None and not proj.net[6].bias.requires_grad     # frozen: a BN follows
    assert not proj.net[7].affine and proj.net[1].affine                      # output BN without γ, β
    assert proj.net[3].weight.shape == (16, 16)                              # hidden width is a parameter
    z = proj.train()(torch.randn(32, 8))
    assert torch.allclose(z.mean(0), torch.zeros(4), atol=1e-5)               # the output BN centres z
    pred = heads.SimSiamPredictor(8, 3)
    assert [type(m) for m in pred.net] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    assert pred.net[0].bias is None and pred.net[3].bias is not None


@pytest.mark.parametrize("bad, match", [
    (lambda: heads.ProjectionHead(8, num_layers=0), "at least 1 layer"),
    (lambda: heads.MoCoV2Head(8, 0, 4), r"hidden_dim=0 is not allowed"),
    (lambda: heads.BYOLProjector(8.5), r"in_dim=8\.5 is not allowed"),
    (lambda: heads.SimSiamProjector(8, num_layers=0), r"num_layers=0 is not allowed"),
])
def test_bad_widths_say_what_is_allowed(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()

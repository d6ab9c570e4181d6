import pytest
import torch

from sslstudy import backbones


@pytest.mark.parametrize("cin,size", [(1, 28), (3, 32)])
def test_small_cnn_shapes(cin, size):
    m = backbones.SmallCNN(cin)
    assert m(torch.rand(4, cin, size, size)).shape == (4, m.feature_dim)
    assert 80_000 < backbones.count_parameters(m) < 150_000


def test_resnet18_cifar_stem_and_width():
    m = backbones.ResNet18Cifar(width=0.25)
    assert m(torch.rand(2, 3, 32, 32)).shape == (2, 128)
    conv = m.stem[0]
    assert conv.kernel_size == (3, 3) and conv.stride == (1, 1)
    assert not any(isinstance(x, torch.nn.MaxPool2d) for x in m.modules())
    full = backbones.ResNet18Cifar()
    assert full.feature_dim == 512 and 11.0e6 < backbones.count_parameters(full) < 11.4e6


def test_dec_autoencoder():
    ae = backbones.DECAutoencoder()
    x = torch.rand(5, 784)
    z = ae.encode(x)
    assert z.shape == (5, 10) and ae.decode(z).shape == (5, 784)
    assert [layer.out_features for layer in ae.encoder_layers] == [500, 500, 2000, 10]
    assert (ae.decode(z) < 0).any()  # linear output, no ReLU at the end
    assert (z < 0).any()             # linear embedding


def test_backbone_bad_input_messages():
    with pytest.raises(ValueError, match=r"SmallCNN takes a batch of shape \(B, 1, H, W\); got \(4, 3, 28, 28\)"):
        backbones.SmallCNN(1)(torch.rand(4, 3, 28, 28))
    with pytest.raises(ValueError, match="float batch"):
        backbones.SmallCNN(1)(torch.zeros(4, 1, 28, 28, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"DECAutoencoder takes float vectors of shape \(B, 784\)"):
        backbones.DECAutoencoder().encode(torch.rand(2, 1, 28, 28))
    with pytest.raises(ValueError, match="in_channels=2 is not allowed"):
        backbones.SmallCNN(2)
    with pytest.raises(ValueError, match="width=0 is not allowed"):
        backbones.ResNet18Cifar(width=0)


def test_resnet18_cifar_zero_init_residual():
    torch.manual_seed(0)
    m = backbones.ResNet18Cifar(width=0.25, zero_init_residual=True)
    blocks = list(m.layers)
    assert len(blocks) == 8 and all(torch.all(b.bn2.weight == 0) for b in blocks)
    assert all(torch.all(b.bn1.weight == 1) for b in blocks)                 # only the last BN of each branch
    shortcut_bns = [b.shortcut[1] for b in blocks if len(b.shortcut)]
    assert shortcut_bns and all(torch.all(bn.weight == 1) for bn in shortcut_bns)
    # a block whose branch is silent and whose shortcut is the identity returns relu(x)
    x = torch.randn(4, blocks[1].conv1.in_channels, 8, 8)
    assert torch.allclose(blocks[1](x), torch.relu(x))
    assert not backbones.ResNet18Cifar(width=0.25).zero_init_residual
    assert torch.all(backbones.ResNet18Cifar(width=0.25).layers[0].bn2.weight == 1)
    with pytest.raises(ValueError, match="zero_init_residual"):
        backbones.ResNet18Cifar(zero_init_residual="yes")

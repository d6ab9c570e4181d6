"""Shared fixtures. Tests never download: they use SSL_DATA_DIR when set (CI: ../shared/data), and the
dataset-specific tests skip (with a reason) where no offline copy exists; `digits` is always available."""
import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
# fixture notebooks are executed by the tests that need them, not collected by nbval
collect_ignore = ["fixtures"]


@pytest.fixture(autouse=True)
def _quiet_env(monkeypatch, tmp_path):
    monkeypatch.setenv("SSL_CHECKPOINT_DIR", str(tmp_path / "ckpt"))
    monkeypatch.delenv("SSL_DOWNLOAD", raising=False)
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _threads():
    """Apply SSL_THREADS (as CI's notebooks do) and restore torch's thread count afterwards."""
    before = torch.get_num_threads()
    if os.environ.get("SSL_THREADS"):
        torch.set_num_threads(int(os.environ["SSL_THREADS"]))
    yield
    torch.set_num_threads(before)


def have(name: str) -> bool:
    from sslstudy import data

    try:
        return data.locate(name) is not None
    except data.DataNotFoundError:
        return False


needs_mnist = pytest.mark.skipif(not os.environ.get("SSL_DATA_DIR") or not have("mnist"),
                                 reason="MNIST not found offline (set SSL_DATA_DIR)")
needs_cifar = pytest.mark.skipif(not os.environ.get("SSL_DATA_DIR") or not have("cifar10"),
                                 reason="CIFAR-10 not found offline (set SSL_DATA_DIR)")

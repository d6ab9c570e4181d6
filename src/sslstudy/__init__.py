"""sslstudy — the toolkit of the course "Reading self-supervised learning backwards, part 1".

Modules: ``config`` (mode, seed, device, the settings table), ``data`` (datasets offline-first),
``augment`` (batched SSL augmentations), ``backbones``, ``train`` (the training loop), ``evaluate`` (kNN,
linear probe, clustering metrics), ``report`` (the run record, stored results), ``viz`` (figures),
``distributed`` (all-gather, gloo harness), ``nbtools`` (export, Colab, running), and ``methods`` (one module
per paper, exported from each week's code-analysis notebook).
"""
__version__ = "0.1.0"

#: Where the course is published; `make colab-links SLUG=owner/repo` restamps this and every notebook.
REPO_SLUG = "jwkanggist/self-supervised-learning-narratives-1"
GIT_REF = "main"


def print_env():
    """The setup cell's printout: versions and device. The mode is the parameters cell's business:
    ``config.setup`` prints it (fast by default; full mode via ``SSL_MODE=full`` or ``-p mode full``)."""
    from . import config

    info = config.versions()
    dev = config.get_device()
    print(f"sslstudy {__version__} | python {info['python']} | torch {info['torch']} "
          f"| torchvision {info['torchvision']}")
    hardware = f"{info['gpu']}, CUDA {info['cuda']}" if info["gpu"] else f"{info['cpu_cores']} CPU cores"
    print(f"device: {dev} ({hardware})" + (" | Colab" if info["colab"] else ""))
    return info

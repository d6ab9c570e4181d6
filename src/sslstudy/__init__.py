"""sslstudy — the toolkit of the course "Reading self-supervised learning backwards, part 1".

Modules: ``config`` (mode, seed, device), ``data`` (datasets offline-first), ``augment`` (batched SSL
augmentations), ``backbones``, ``train`` (the training loop), ``evaluate`` (kNN, linear probe, clustering
metrics), ``viz`` (figures), ``distributed`` (all-gather, gloo harness), ``nbtools`` (export, Colab, running),
and ``methods`` (one module per paper, exported from each week's code-analysis notebook).
"""
__version__ = "0.1.0"

#: Where the course is published; `make colab-links SLUG=owner/repo` restamps this and every notebook.
REPO_SLUG = "jwkanggist/self-supervised-learning-narratives-1"
GIT_REF = "main"


def print_env(mode=None):
    """The setup cell's printout: versions, device, mode; warns when full mode has no GPU."""
    from . import config

    info = config.versions()
    m = config.get_mode(mode)
    dev = config.get_device()
    print(f"sslstudy {__version__} | python {info['python']} | torch {info['torch']} | torchvision {info['torchvision']}")
    print(f"device: {dev}" + (f" ({info['gpu']}, CUDA {info['cuda']})" if info["gpu"] else f" ({info['cpu_cores']} CPU cores)")
          + f" | mode: {m}" + (" | Colab" if info["colab"] else ""))
    if m == "full" and dev.type == "cpu":
        import warnings

        warnings.warn("Full mode without a GPU will take hours. On Colab: Runtime → Change runtime type → GPU; "
                      "or set mode = 'fast' in the parameters cell.", stacklevel=2)
    return info

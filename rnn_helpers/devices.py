"""Choose the device once: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations


def pick_device(preference: str = "auto", *, verbose: bool = True):
    """Return a `torch.device`.

    preference: "auto" (CUDA, then MPS, then CPU) or an explicit "cuda", "cuda:1", "mps", "cpu".
    An explicit device that is not available raises a RuntimeError that says what is available.
    """
    import torch

    available = available_devices()
    if preference == "auto":
        name = "cuda" if "cuda" in available else "mps" if "mps" in available else "cpu"
    else:
        name = preference
        kind = name.split(":")[0]
        if kind not in available:
            raise RuntimeError(
                f"device {name!r} was asked for but is not available here; available: {', '.join(available)}. "
                "Use --device auto to pick the best one."
            )
    device = torch.device(name)
    if verbose:
        detail = f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else ""
        print(f"Using device: {device}{detail}")
    return device


def available_devices() -> list[str]:
    """Device kinds usable here, best first: a sublist of ["cuda", "mps", "cpu"]."""
    import torch

    kinds = []
    if torch.cuda.is_available():
        kinds.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        kinds.append("mps")
    kinds.append("cpu")
    return kinds


def synchronize(device) -> None:
    """Wait for queued work on `device` to finish (needed before reading a timer on a GPU)."""
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()

"""ddrr.torch against the fake torch in fake_torch/ (first on sys.path): two optimizers, each
stepping --steps times, with the hook installed globally (twice: it must register once) or on
the first optimizer only. Prints every generator state ddrr.torch set and the final states.

    torch_prog.py [--mode global|optimizer] [--steps N] [--seed S]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "fake_torch"))

import torch  # noqa: E402  (the fake)
import ddrr.torch  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", default="global")
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    assert torch.__file__.startswith(os.path.dirname(os.path.abspath(__file__))), torch.__file__
    torch.manual_seed(args.seed)
    first, second = torch.optim.Optimizer("first"), torch.optim.Optimizer("second")
    if args.mode == "global":
        handle = ddrr.torch.install()
        again = ddrr.torch.install()
        print("installed: %s once: %s" % (handle is not None, handle is again))
    else:
        handle = ddrr.torch.install(first)
        print("installed: %s" % (handle is not None))
    for _ in range(args.steps):
        first.step()
        second.step()
    for call, device, state in torch.calls:
        print("%s %s %s" % (call, device, state.hex()))
    print("final cpu=%s cuda=%s" % (bytes(torch.get_rng_state().tolist()).hex(),
                                    ",".join(bytes(s.tolist()).hex()
                                             for s in torch.cuda.get_rng_state_all())))


if __name__ == "__main__":
    main()

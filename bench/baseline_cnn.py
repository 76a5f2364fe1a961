#!/usr/bin/python3
"""PyTorch CPU baseline of the CNN suite (cases as bench_cnn.c).

    OPENBLAS_NUM_THREADS=N OMP_NUM_THREADS=N baseline_cnn.py --threads N [--filter S]

The model of examples/fashion_mnist.c (conv 5x5 32 pad 2, ReLU, maxpool 2,
conv 5x5 64 pad 2, ReLU, maxpool 2, linear 3136->1024, ReLU, linear 1024->10,
cross-entropy, Adam lr 1e-3) on random inputs shaped like Fashion-MNIST
batches (timing does not depend on the pixel values). Cases:
  cnn_train_step_b250   one Adam step: zero_grad, forward, backward, step
                        (an epoch of 60000 images is 240 such steps)
  cnn_infer_b250        forward of a batch of 250 under torch.no_grad()
  cnn_infer_b1          forward of one image (latency)
and, once, the process's peak resident memory after the cases ran
(case cnn_peak_rss, "median_ns" holding bytes; impl torch). Timing as
baseline.py.
"""
import argparse
import resource
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

from baseline import emit, measure


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 5, padding=2)
        self.conv2 = nn.Conv2d(32, 64, 5, padding=2)
        self.fc1 = nn.Linear(3136, 1024)
        self.fc2 = nn.Linear(1024, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--filter", default=None)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (the GPU table; impl torch-cuda)")
    args = ap.parse_args()
    dev = torch.device(args.device)
    cuda = dev.type == "cuda"
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = False      # f32 as Tangent computes it
        torch.backends.cudnn.allow_tf32 = False
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"baseline_cnn: torch {torch.__version__}, threads {torch.get_num_threads()}", file=sys.stderr)
    net = Net().to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    x = torch.rand(250, 1, 28, 28, device=dev)
    y = torch.randint(0, 10, (250,), device=dev)
    x1 = x[:1].clone()

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        if cuda:
            torch.cuda.synchronize()

    def infer(batch):
        def run():
            with torch.no_grad():
                net(batch)
            if cuda:
                torch.cuda.synchronize()
        return run

    cases = [("cnn_train_step_b250", step), ("cnn_infer_b250", infer(x)), ("cnn_infer_b1", infer(x1))]
    for name, fn in cases:
        if args.filter and args.filter not in name:
            continue
        median, count = measure(fn)
        emit("cnn", name, "torch-cuda" if cuda else "torch", args.threads, median, count)
    if cuda:
        return
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    emit("cnn", "cnn_peak_rss", "torch", args.threads, peak / 1e9, 1)


if __name__ == "__main__":
    main()

"""PyTorch DistributedDataParallel (gloo) peer of configs/cnn_cifar10.json: the same CNN, 2
processes x 1 thread, batch 32 per process, Adam 1e-3 (eps 1e-7), DistributedSampler reshuffled
every epoch, 10 epochs with a test-set evaluation after each (split across the ranks), on the
real CIFAR-10.
usage: cifar10_torch_ddp.py DATA_DIR [--world 2] [--threads 1] [--epochs E] [--batch B]
Prints one JSON line: wall seconds (data loading excluded), CPU seconds of all ranks, final
test accuracy."""
import argparse
import json
import os
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("data_dir")
ap.add_argument("--world", type=int, default=2)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--epochs", type=int, default=10)
ap.add_argument("--batch", type=int, default=32)
args = ap.parse_args()
for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[k] = str(args.threads)
os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn.parallel import DistributedDataParallel as DDP  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cifar10_data  # noqa: E402


def make_model():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 6 * 6, 64), nn.ReLU(), nn.Linear(64, 10))


def worker(rank, args, port, result):
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=args.world)
    (x_train, y_train), (x_test, y_test) = cifar10_data.load(args.data_dir)
    to_nchw = lambda x: torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # noqa: E731
    x_train, x_test = to_nchw(x_train), to_nchw(x_test)
    y_train, y_test = torch.from_numpy(y_train), torch.from_numpy(y_test)
    torch.manual_seed(42)
    model = DDP(make_model())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    sampler = torch.utils.data.DistributedSampler(
        torch.utils.data.TensorDataset(y_train), num_replicas=args.world, rank=rank, seed=42)
    dist.barrier()
    t0, c0 = time.perf_counter(), os.times()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        order = torch.tensor(list(iter(sampler)))
        model.train()
        for i in range(0, len(order) - args.batch + 1, args.batch):
            idx = order[i:i + args.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x_train[idx]), y_train[idx]).backward()
            opt.step()
        model.eval()
        correct = torch.zeros(2, dtype=torch.float64)
        with torch.no_grad():
            for i in range(rank * 256, len(x_test), args.world * 256):
                pred = model(x_test[i:i + 256]).argmax(1)
                correct[0] += (pred == y_test[i:i + 256]).sum()
                correct[1] += len(pred)
        dist.all_reduce(correct)
        if rank == 0:
            print(f"epoch {epoch + 1}: test accuracy {correct[0] / correct[1]:.4f}", flush=True)
    wall = time.perf_counter() - t0
    c1 = os.times()
    stats = torch.tensor([(c1.user - c0.user) + (c1.system - c0.system)], dtype=torch.float64)
    dist.all_reduce(stats)
    if rank == 0:
        print(json.dumps(dict(framework="torch-ddp-gloo", version=f"torch {torch.__version__}",
                              world=args.world, threads=args.threads, batch=args.batch,
                              epochs=args.epochs, wall_s=round(wall, 1),
                              cpu_s=round(stats.item(), 1),
                              test_accuracy=round(float(correct[0] / correct[1]), 4))), flush=True)
    dist.barrier()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(args, port, None), nprocs=args.world)

"""PyTorch gloo all-reduce of a float32 buffer: the reference for bench/transport.sh.

usage: /usr/bin/python3 bench/gloo_allreduce.py WORLD MIB REPEATS PORT              (all ranks here, on loopback)
       /usr/bin/python3 bench/gloo_allreduce.py WORLD MIB REPEATS PORT RANK MASTER  (one rank; rank 0 listens on MASTER)
Rank 0 prints RESULT s,s,...
"""
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def worker(rank, world, mib, repeats, port, master="127.0.0.1"):
    os.environ["MASTER_ADDR"] = master
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    buffer = torch.ones(mib * (1 << 20) // 4, dtype=torch.float32)
    dist.all_reduce(buffer)  # warm-up
    seconds = []
    for _ in range(repeats):
        dist.barrier()
        start = time.perf_counter()
        dist.all_reduce(buffer)
        seconds.append(time.perf_counter() - start)
    if rank == 0:
        print("RESULT " + ",".join(repr(s) for s in seconds), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    world, mib, repeats, port = (int(a) for a in sys.argv[1:5])
    if len(sys.argv) > 6:
        worker(int(sys.argv[5]), world, mib, repeats, port, sys.argv[6])
    else:
        mp.spawn(worker, args=(world, mib, repeats, port), nprocs=world, join=True)

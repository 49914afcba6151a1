# The PyTorch side of bench/infer.sh: torch_peers.py's cnn2 (or resnet8) in eval mode under torch.inference_mode(),
# torch on 2 threads, images/s of net(x) at each batch size on normalized 28x28 inputs (random: the work does not
# depend on the values). One JSON line per batch size: the median of REPEATS timed rounds after a warm-up.
# usage: /usr/bin/python3 infer_peer.py [NET] [BATCHES] [SECONDS] [REPEATS]   (defaults: cnn2 1,32,64 5 5)
import json, statistics, sys, time, torch, torch.nn as nn
from torch_state_dict import Res  # torch_peers.py's basic block (torch_peers.py itself trains when imported)
torch.set_num_threads(2); torch.manual_seed(0)
net_name = sys.argv[1] if len(sys.argv) > 1 else "cnn2"
batches = [int(b) for b in (sys.argv[2] if len(sys.argv) > 2 else "1,32,64").split(",")]
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 5.0
repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 5
nets = {  # as torch_peers.py defines them
  "cnn2": lambda: nn.Sequential(
      nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
      nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
      nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 10)),
  "resnet8": lambda: nn.Sequential(
      nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
      Res(16, 16, 1), Res(16, 32, 2), Res(32, 64, 2), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)),
}
net = nets[net_name]().eval()
with torch.inference_mode():
    for batch in batches:
        x = torch.randn(batch, 1, 28, 28)
        start = time.perf_counter()
        while time.perf_counter() - start < seconds / repeats / 5: net(x)  # warm-up
        rates = []
        for _ in range(repeats):
            images, start = 0, time.perf_counter()
            while True:
                net(x); images += batch
                elapsed = time.perf_counter() - start
                if elapsed >= seconds / repeats: break
            rates.append(images / elapsed)
        print(json.dumps({"label": "pytorch", "net": net_name, "form": "eager", "batch": batch, "images_per_s": round(statistics.median(rates), 1),
                          "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)

# One fine-tuning step of the ImageNet ResNet-18 in PyTorch, the reference for TransferFineTuneTests.
# The network is ML.NET's ResNet18.onnx (NuGet Microsoft.ML.DnnImageFeaturizer.ResNet18 0.24.0, read with python3-onnx)
# rebuilt in torch with the engine's layout by bench/peers/resnet18_torch.py (the benchmark's peer uses the same).
# The fixture holds no weights of the backbone (45 MB): only the new head, the input rule, and what one step produced:
#   finetune_step.safetensors  head.weight (3x512), head.bias, logits (2x3), loss, and for a few parameters slices of
#                              their gradient and of their value after one SGD step (Nesterov 0.9, weight decay 1e-4,
#                              head lr 0.01, backbone lr 0.001: PyTorch parameter groups), batch norms frozen (eval
#                              statistics), every layer trained (--finetune).
# The input is integer-valued so both sides build it exactly: x[n,c,h,w] = (n*131 + c*71 + h*37 + w*17) % 255 - 127.5,
# fed to the stem (after the input layer: it is the backbone's preprocessed input).
# Run: /usr/bin/python3 tests/Fixtures/finetune/make_fixtures.py [DnnImageModels/ResNet18Onnx/ResNet18.onnx]
# (seeded, one thread: regenerates byte for byte on this machine's torch).
import os, sys
import numpy as np, torch, torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, ".."))
sys.path.insert(0, os.path.join(here, "..", "..", "..", "bench", "peers"))
import safetensors_writer
import resnet18_torch

torch.manual_seed(5)
torch.set_num_threads(1)
path = sys.argv[1] if len(sys.argv) > 1 else resnet18_torch.DEFAULT_ONNX

model = resnet18_torch.pretrained(3, path)
model.train()
resnet18_torch.freeze_batch_norms(model)

n, c, h, w = np.meshgrid(np.arange(2), np.arange(3), np.arange(224), np.arange(224), indexing="ij")
x = torch.from_numpy(((n * 131 + c * 71 + h * 37 + w * 17) % 255 - 127.5).astype(np.float32))
labels = torch.tensor([0, 2])
head_weight, head_bias = model.head.weight.detach().clone(), model.head.bias.detach().clone()

body = [p for name, p in model.named_parameters() if not name.startswith("head.")]
optimizer = torch.optim.SGD([{"params": body, "lr": 0.001}, {"params": model.head.parameters(), "lr": 0.01}],
                            lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4)
optimizer.zero_grad()
logits = model(x)
loss = F.cross_entropy(logits, labels)
loss.backward()

# Engine names: 1 = stem, 2 = its norm, 5.. = blocks, 15 = head.
WATCHED = {"1.weight": model.stem.weight, "2.weight": model.norm.weight, "5.c1.weight": model.blocks[0].c1.weight,
           "7.sc.0.weight": model.blocks[2].sc[0].weight, "13.c2.weight": model.blocks[8].c2.weight,
           "13.b2.bias": model.blocks[8].b2.bias, "15.weight": model.head.weight, "15.bias": model.head.bias}
SLICE = 64
tensors = {"head.weight": head_weight.numpy(), "head.bias": head_bias.numpy(), "logits": logits.detach().numpy(),
           "loss": np.array([loss.item()], dtype=np.float32)}
for name, p in WATCHED.items():
    tensors["grad." + name] = p.grad.reshape(-1)[:SLICE].numpy().copy()
optimizer.step()
for name, p in WATCHED.items():
    tensors["after." + name] = p.detach().reshape(-1)[:SLICE].numpy().copy()
safetensors_writer.write(os.path.join(here, "finetune_step.safetensors"), tensors,
                         {"made_by": "tests/Fixtures/finetune/make_fixtures.py", "torch": torch.__version__})
print("wrote", os.path.join(here, "finetune_step.safetensors"), "loss", loss.item())

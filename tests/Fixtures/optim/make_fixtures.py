#!/usr/bin/python3
"""Reference fixtures for SharpVision.Optim tests, produced by PyTorch's own optimizers and schedulers.

Run with Debian's interpreter (python3-torch, torch 1.13) from any folder:
    /usr/bin/python3 tests/Fixtures/optim/make_fixtures.py

Writes optimizers.json and schedules.json next to this script.

optimizers.json: one case per optimizer configuration. Each case starts from fixed float32 parameters
("w" 2x3 and "b" 3, row-major) and runs STEPS updates. Step k gives the learning rate (and, where a
schedule cycles it, the SGD momentum or Adam beta1) set before the update, the gradient of every parameter
(null: the parameter has no gradient this step, so torch skips it), and the parameters after the update.
Gradients are drawn by this script (seeded) and stored, so the C# side replays exactly the same inputs.

schedules.json: the learning rate torch applies at every 0-based step (what the optimizer sees on update k,
i.e. scheduler.get_last_lr() after k calls to scheduler.step()), and for OneCycleLR the SGD momentum too.

Values are float32 printed as Python floats (exact); learning rates are float64.
"""
import json
import math
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
STEPS = 5
SCHEDULE_STEPS = 50

torch.manual_seed(20241121)
INITIAL = {
    "w": torch.randn(2, 3, dtype=torch.float32),
    "b": torch.randn(3, dtype=torch.float32),
}
GRADIENTS = [{name: torch.randn_like(p) for name, p in INITIAL.items()} for _ in range(STEPS)]


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def run_case(name, kind, options, make, skip=(), schedule=None):
    """Runs one optimizer case. skip: (step, parameter) pairs whose gradient is None.
    schedule: optional function(optimizer) -> torch scheduler stepped after every update."""
    params = {n: torch.nn.Parameter(p.clone()) for n, p in INITIAL.items()}
    optimizer = make([params["w"], params["b"]])
    scheduler = schedule(optimizer) if schedule else None
    steps = []
    for k in range(STEPS):
        group = optimizer.param_groups[0]
        record = {"lr": group["lr"]}
        if "momentum" in group and scheduler is not None:
            record["momentum"] = group["momentum"]
        if "betas" in group and scheduler is not None:
            record["beta1"] = group["betas"][0]
        grads = {}
        for pname, p in params.items():
            if (k, pname) in skip:
                p.grad = None
                grads[pname] = None
            else:
                p.grad = GRADIENTS[k][pname].clone()
                grads[pname] = flat(p.grad)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        record["grads"] = grads
        record["params_after"] = {pname: flat(p) for pname, p in params.items()}
        steps.append(record)
    return {"name": name, "optimizer": kind, "options": options,
            "initial": {n: flat(p) for n, p in INITIAL.items()}, "steps": steps}


def optimizer_cases():
    O = torch.optim
    one_cycle = lambda opt: O.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=STEPS)
    return [
        run_case("sgd_plain", "sgd", {"lr": 0.1},
                 lambda p: O.SGD(p, lr=0.1)),
        run_case("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9},
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9)),
        run_case("sgd_nesterov_weight_decay", "sgd", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 0.01},
                 lambda p: O.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01)),
        run_case("sgd_momentum_skip", "sgd", {"lr": 0.1, "momentum": 0.9},
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9), skip={(0, "b"), (2, "w")}),
        run_case("sgd_one_cycle", "sgd", {"lr": 0.1, "momentum": 0.9},
                 lambda p: O.SGD(p, lr=0.1, momentum=0.9), schedule=one_cycle),
        run_case("adagrad", "adagrad", {"lr": 0.1},
                 lambda p: O.Adagrad(p, lr=0.1)),
        run_case("adagrad_weight_decay", "adagrad", {"lr": 0.1, "weight_decay": 0.1},
                 lambda p: O.Adagrad(p, lr=0.1, weight_decay=0.1)),
        run_case("rmsprop", "rmsprop", {"lr": 0.01},
                 lambda p: O.RMSprop(p, lr=0.01)),
        run_case("rmsprop_momentum_weight_decay", "rmsprop", {"lr": 0.01, "momentum": 0.9, "weight_decay": 0.05},
                 lambda p: O.RMSprop(p, lr=0.01, momentum=0.9, weight_decay=0.05)),
        run_case("adam", "adam", {"lr": 0.01},
                 lambda p: O.Adam(p, lr=0.01)),
        run_case("adam_weight_decay_betas", "adam", {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
                 lambda p: O.Adam(p, lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)),
        run_case("adam_skip", "adam", {"lr": 0.01},
                 lambda p: O.Adam(p, lr=0.01), skip={(1, "b"), (2, "b")}),
        run_case("adam_one_cycle", "adam", {"lr": 0.1},
                 lambda p: O.Adam(p, lr=0.1), schedule=one_cycle),
        run_case("adamw", "adamw", {"lr": 0.01},
                 lambda p: O.AdamW(p, lr=0.01)),
        run_case("adamw_strong_decay", "adamw", {"lr": 0.05, "weight_decay": 0.5},
                 lambda p: O.AdamW(p, lr=0.05, weight_decay=0.5)),
    ]


def lrs_of(make_scheduler, base_lr=0.1, momentum=0.0, steps=SCHEDULE_STEPS):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=momentum)
    scheduler = make_scheduler(opt)
    lrs, momenta = [], []
    for _ in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        scheduler.step()
    return lrs, momenta


def schedule_cases():
    S = torch.optim.lr_scheduler
    n = SCHEDULE_STEPS
    cases = []
    lrs, _ = lrs_of(lambda o: S.StepLR(o, step_size=7, gamma=0.5))
    cases.append({"name": "step", "args": {"lr": 0.1, "step_size": 7, "gamma": 0.5, "total_steps": n}, "lrs": lrs})
    lrs, _ = lrs_of(lambda o: S.ExponentialLR(o, gamma=0.95))
    cases.append({"name": "exponential", "args": {"lr": 0.1, "gamma": 0.95, "total_steps": n}, "lrs": lrs})
    lrs, _ = lrs_of(lambda o: S.CosineAnnealingLR(o, T_max=n, eta_min=1e-3))
    cases.append({"name": "cosine", "args": {"lr": 0.1, "eta_min": 1e-3, "total_steps": n}, "lrs": lrs})
    lrs, _ = lrs_of(lambda o: S.CosineAnnealingLR(o, T_max=n))
    cases.append({"name": "cosine_to_zero", "args": {"lr": 0.1, "eta_min": 0.0, "total_steps": n}, "lrs": lrs})
    lrs, momenta = lrs_of(lambda o: S.OneCycleLR(o, max_lr=0.4, total_steps=n), momentum=0.9)
    cases.append({"name": "one_cycle", "args": {"max_lr": 0.4, "total_steps": n}, "lrs": lrs, "momenta": momenta})
    # An odd length and non-default factors, so that the phase boundary falls between steps.
    lrs, momenta = lrs_of(lambda o: S.OneCycleLR(o, max_lr=1.0, total_steps=37, pct_start=0.25, div_factor=10.0,
                                                 final_div_factor=100.0, base_momentum=0.8, max_momentum=0.9),
                          momentum=0.9, steps=37)
    cases.append({"name": "one_cycle_custom", "args": {"max_lr": 1.0, "total_steps": 37, "pct_start": 0.25, "div_factor": 10.0,
                                                       "final_div_factor": 100.0, "base_momentum": 0.8, "max_momentum": 0.9},
                  "lrs": lrs, "momenta": momenta})
    return cases


def write(name, payload):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump({"torch": torch.__version__, **payload}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    write("optimizers.json", {"cases": optimizer_cases()})
    write("schedules.json", {"cases": schedule_cases()})
    print("wrote optimizers.json and schedules.json to", HERE)

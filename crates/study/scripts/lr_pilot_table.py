"""The learning-rate pilot's table (see lr_pilot.sh): avg@k (%) per env over the evaluated train
tasks that the warm start's demonstrations did not use, and each learning rate's paired change
against the base with a bootstrap 95% interval over tasks (2,000 resamples, seed 0).

usage: lr_pilot_table.py DEMOS.jsonl PILOT_DIR LR [LR ...]
"""
import collections
import json
import random
import sys

ENVS = ["searchqa", "textcraft", "babyai"]


def demo_tasks(path):
    tasks = collections.defaultdict(set)
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            tasks[record["env"]].add(record["task"])
    return tasks


def task_means(path, skip):
    """env -> task -> mean reward over its samples, leaving out `skip[env]`."""
    rewards = collections.defaultdict(lambda: collections.defaultdict(list))
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if r["task"] not in skip[r["env"]]:
                rewards[r["env"]][r["task"]].append(r["reward"])
    return {e: {t: sum(v) / len(v) for t, v in ts.items()} for e, ts in rewards.items()}


def main(demos, pilot, lrs):
    skip = demo_tasks(demos)
    base = task_means(f"{pilot}/base.jsonl", skip)
    rng = random.Random(0)
    print("| model | " + " | ".join(f"{e}: avg@k (change vs base [95% CI])" for e in ENVS) + " |")
    print("|---|" + "---|" * len(ENVS))
    print("| base | " + " | ".join(
        f"{100 * sum(base[e].values()) / len(base[e]):.1f} ({len(base[e])} tasks)" for e in ENVS
    ) + " |")
    for lr in lrs:
        model = task_means(f"{pilot}/lr{lr}.jsonl", skip)
        cells = []
        for e in ENVS:
            tasks = sorted(base[e])
            diffs = [model[e][t] - base[e][t] for t in tasks]
            boots = sorted(
                100 * sum(rng.choice(diffs) for _ in diffs) / len(diffs) for _ in range(2000)
            )
            mean = 100 * sum(model[e][t] for t in tasks) / len(tasks)
            delta = 100 * sum(diffs) / len(diffs)
            cells.append(f"{mean:.1f} ({delta:+.1f} [{boots[50]:+.1f}, {boots[1949]:+.1f}])")
        print(f"| lr {lr} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:])

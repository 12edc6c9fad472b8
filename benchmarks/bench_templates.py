"""Grouping accuracy and speed of our template miner against drain3 on the Loghub-2k samples.

Grouping accuracy (GA) follows Zhu et al. 2019: a line is correct when the set of lines in its
predicted group equals the set of lines of its labelled event; GA is the share of correct lines.
Every parser runs in this one process on the same lines, and the table is printed at the end.

Lines per second are the mean over datasets of each parser's best of `--repeat` runs; our caches
are cleared before every run, so no run profits from an earlier one.

Run: `.venv/bin/python benchmarks/bench_templates.py [--repeat N] [--stream LINES]`
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psutil
from drain3 import TemplateMiner as Drain3Miner
from drain3.masking import MaskingInstruction
from drain3.template_miner_config import TemplateMinerConfig
from figures import record

from ops_monitor.analysis.headers import HeaderStripper, kind_of
from ops_monitor.analysis.masking import clear_cache
from ops_monitor.analysis.templates import label_all

DATASETS = ("HDFS", "Hadoop", "Spark", "Zookeeper", "BGL", "Linux", "OpenSSH", "Apache")
DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "loghub-2k"

Parser = Callable[[Sequence[str]], list[str]]


@dataclass(frozen=True)
class Sample:
    """One labelled dataset: whole lines, their messages and their event ids."""

    name: str
    lines: list[str]
    contents: list[str]
    events: list[str]


def load(data: Path, name: str) -> Sample:
    raw = (data / name / f"{name}_2k.log").read_bytes().decode("ascii")
    lines = [line.removesuffix("\r") for line in raw.split("\n")]
    if lines and lines[-1] == "":
        lines.pop()
    with (data / name / f"{name}_2k.log_structured.csv").open(newline="", encoding="ascii") as f:
        rows = list(csv.DictReader(f))
    if len(rows) != len(lines):
        raise SystemExit(f"{name}: {len(lines)} log lines but {len(rows)} labelled rows")
    return Sample(name, lines, [r["Content"] for r in rows], [r["EventId"] for r in rows])


def grouping_accuracy(predicted: Sequence[str], truth: Sequence[str]) -> float:
    """Share of lines whose predicted group is exactly their true event's group."""
    by_predicted: dict[str, set[int]] = defaultdict(set)
    by_truth: dict[str, set[int]] = defaultdict(set)
    for index, (guess, event) in enumerate(zip(predicted, truth, strict=True)):
        by_predicted[guess].add(index)
        by_truth[event].add(index)
    correct = sum(
        len(members)
        for event, members in by_truth.items()
        if by_predicted[predicted[next(iter(members))]] == members
    )
    return correct / len(truth)


def ours_message(messages: Sequence[str]) -> list[str]:
    """What `ops-monitor templates` does: learn from every message, then label each one."""
    return [match.template_id for match in label_all(messages)]


def ours_raw(lines: Sequence[str]) -> list[str]:
    """`ops-monitor templates --mode raw`: headers found and stripped first."""
    return [match.template_id for match in label_all(HeaderStripper().messages(lines))]


def _drain3(config: TemplateMinerConfig) -> Parser:
    def parse(messages: Sequence[str]) -> list[str]:
        miner = Drain3Miner(config=config)
        return [str(miner.add_log_message(m)["cluster_id"]) for m in messages]

    return parse


def drain3_default_config() -> TemplateMinerConfig:
    config = TemplateMinerConfig()
    config.profiling_enabled = False
    return config


def drain3_example_config() -> TemplateMinerConfig:
    """The masking and Drain settings of drain3's example `drain3.ini`, written as code."""
    boundary_before, boundary_after = r"((?<=[^A-Za-z0-9])|^)", r"((?=[^A-Za-z0-9])|$)"
    rules = [
        (r"(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))", "ID"),
        (r"(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})", "IP"),
        (r"([0-9a-f]{6,} ?){3,}", "SEQ"),
        (r"([0-9A-F]{4} ?){4,}", "SEQ"),
        (r"(0x[a-f0-9A-F]+)", "HEX"),
        (r"([\-\+]?\d+)", "NUM"),
    ]
    config = drain3_default_config()
    config.masking_instructions = [
        MaskingInstruction(f"{boundary_before}{regex}{boundary_after}", name)
        for regex, name in rules
    ]
    config.masking_instructions.append(MaskingInstruction(r"(?<=executed cmd )(\".+?\")", "CMD"))
    config.mask_prefix, config.mask_suffix = "<:", ":>"
    config.drain_sim_th, config.drain_depth = 0.4, 4
    config.drain_max_children, config.drain_max_clusters = 100, 1024
    config.drain_extra_delimiters = ["_"]
    return config


# (label, parser, feeds whole lines?)
PARSERS: tuple[tuple[str, Parser, bool], ...] = (
    ("ours (message)", ours_message, False),
    ("ours (raw lines)", ours_raw, True),
    ("drain3 default", _drain3(drain3_default_config()), False),
    ("drain3 example masking", _drain3(drain3_example_config()), False),
    ("drain3 whole lines", _drain3(drain3_default_config()), True),
)


def show_errors(sample: Sample, predicted: Sequence[str], inputs: Sequence[str]) -> None:
    """Print the labelled events that a parser split or merged, for error analysis."""
    by_truth: dict[str, list[int]] = defaultdict(list)
    by_predicted: dict[str, list[int]] = defaultdict(list)
    for index, (guess, event) in enumerate(zip(predicted, sample.events, strict=True)):
        by_truth[event].append(index)
        by_predicted[guess].append(index)
    for event, members in sorted(by_truth.items()):
        groups = Counter(predicted[i] for i in members)
        merged = {sample.events[i] for g in groups for i in by_predicted[g]} - {event}
        if len(groups) == 1 and not merged:
            continue
        print(f"\n== {event} ({len(members)} lines) split into {len(groups)}, merged with {merged}")
        for group in groups:
            example = next(i for i in members if predicted[i] == group)
            print(f"   [{groups[group]}] {inputs[example]}")
        for other in sorted(merged)[:3]:
            example = next(i for i in range(len(predicted)) if sample.events[i] == other)
            print(f"   merged: {other}: {inputs[example]}")


def run(data: Path, names: Iterable[str], errors_of: str | None, repeat: int) -> dict[str, object]:
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    speeds: dict[str, list[float]] = defaultdict(list)
    for name in names:
        sample = load(data, name)
        for label, parser, whole in PARSERS:
            inputs = sample.lines if whole else sample.contents
            elapsed = float("inf")
            for _ in range(repeat):
                clear_cache()  # every run of ours starts cold, like a fresh process
                kind_of.cache_clear()
                started = time.perf_counter()
                predicted = parser(inputs)
                elapsed = min(elapsed, time.perf_counter() - started)
            scores[label][name] = grouping_accuracy(predicted, sample.events)
            speeds[label].append(len(inputs) / elapsed)
            if errors_of == name and label.startswith("ours"):
                print(f"\n######## {label} on {name}")
                show_errors(sample, predicted, inputs)
    print_table(scores, speeds)
    return {
        label: {
            "grouping_accuracy": {name: round(value, 4) for name, value in by_name.items()},
            "average": round(sum(by_name.values()) / len(by_name), 4),
            "minimum": round(min(by_name.values()), 4),
            "lines_per_second": round(sum(speeds[label]) / len(speeds[label])),
        }
        for label, by_name in scores.items()
    }


def print_table(scores: dict[str, dict[str, float]], speeds: dict[str, list[float]]) -> None:
    names = list(next(iter(scores.values())))
    header = f"{'parser':<24}" + "".join(f"{n[:9]:>10}" for n in names)
    print(header + f"{'average':>10}{'min':>8}{'lines/s':>10}")
    for label, by_name in scores.items():
        values = [by_name[n] for n in names]
        rate = sum(speeds[label]) / len(speeds[label])
        cells = "".join(f"{v:>10.3f}" for v in values)
        print(
            f"{label:<24}{cells}{sum(values) / len(values):>10.3f}{min(values):>8.3f}{rate:>10.0f}"
        )


def stream(data: Path, count: int) -> dict[str, object]:
    """Sustained speed on a long stream: Loghub messages with every number drawn afresh, so
    caches meet new values as in a real log, not the same 16,000 lines again."""
    contents = [c for name in DATASETS for c in load(data, name).contents]
    rng = random.Random(42)
    digits = re.compile(r"\d+")

    def messages() -> Iterator[str]:
        for index in range(count):
            yield digits.sub(
                lambda m: str(rng.randrange(10 ** len(m.group()))), contents[index % len(contents)]
            )

    clear_cache()
    process = psutil.Process()
    before = process.memory_info().rss
    started = time.perf_counter()
    templates = {match.template_id for match in label_all(messages())}
    elapsed = time.perf_counter() - started
    grown = (process.memory_info().rss - before) / 2**20
    ours_rate = count / elapsed
    print(
        f"ours (message), {count} lines: {ours_rate:.0f} lines/s, "
        f"{len(templates)} templates, resident memory +{grown:.0f} MiB"
    )
    rng.seed(42)
    miner = Drain3Miner(config=drain3_default_config())
    started = time.perf_counter()
    for message in messages():
        miner.add_log_message(message)
    elapsed = time.perf_counter() - started
    print(
        f"drain3 default, {count} lines: {count / elapsed:.0f} lines/s, "
        f"{len(miner.drain.clusters)} clusters"
    )
    return {
        "lines": count,
        "ours_lines_per_second": round(ours_rate),
        "ours_templates": len(templates),
        "ours_memory_growth_mib": round(grown),
        "drain3_lines_per_second": round(count / elapsed),
        "drain3_clusters": len(miner.drain.clusters),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--dataset", action="append", choices=DATASETS)
    parser.add_argument("--show-errors", choices=DATASETS)
    parser.add_argument(
        "--stream", type=int, default=0, metavar="N", help="also time a stream of N lines"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="time each parser this many times, keep the best"
    )
    args = parser.parse_args()
    figures: dict[str, object] = {
        "parsers": run(args.data, args.dataset or DATASETS, args.show_errors, args.repeat)
    }
    if args.stream:
        figures["stream"] = stream(args.data, args.stream)
    record("templates", figures)


if __name__ == "__main__":
    main()

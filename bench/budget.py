"""One way for every benchmark to print a figure against its budget."""
from __future__ import annotations


def report(name: str, value: float, budget: float, unit: str = "s", indent: str = "") -> str:
    verdict = "within budget" if value <= budget else "OVER BUDGET"
    width = 52 - len(indent)
    print(f"{indent}{name:<{width}} {value:8.2f} {unit:<3} budget {budget:6.1f} {unit:<3} {verdict}", flush=True)
    return verdict

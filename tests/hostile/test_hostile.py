"""One test per hostile input: each ends in a clear message or a bounded result, within budget.

Each case runs in its own child process under an address-space cap (``RLIMIT_AS``) and a time
limit (see ``cases.py``), so a regression fails here instead of taking the machine. The child's
peak memory is printed (``-s`` shows it); the benchmark ``benchmarks/hostile.py`` tabulates it.
"""

from __future__ import annotations

import pytest

from .cases import CASES, run_case

SLOW = {"prefix_features_512", "preview_past_time_limit"}  # tens of seconds of CPU each
TRACEBACK_WORDS = ("Traceback", "RecursionError", "MemoryError", "OverflowError", "KeyError", "AttributeError")


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(CASES)])
def test_hostile_input_ends_in_a_message_or_a_bounded_result(name: str) -> None:
    case = CASES[name]
    report = run_case(case)
    print(f"{name}: {report.get('outcome')} in {report.get('seconds')} s, peak {report.get('peak_mib')} MiB")
    assert report["outcome"] == case.expect, report
    message = report["message"]
    assert not any(word in message for word in TRACEBACK_WORDS), message
    for word in case.words:
        assert word.lower() in message.lower(), (word, message)
    assert report["peak_mib"] < case.memory_mib, report

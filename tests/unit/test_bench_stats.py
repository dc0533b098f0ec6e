"""The benchmarks' summaries: a timeline of milestones from runs that did not all reach every one."""

from bench.stats import phase_medians


def test_phase_medians_orders_milestones_by_median_and_counts_the_runs_that_reached_each() -> None:
    runs = [
        {"started": 5.0, "quoted": 60.0, "sent": 300.0},
        {"started": 7.0, "quoted": 40.0},  # aborted after quoting: no "sent"
        {"started": 6.0, "quoted": 50.0, "sent": 100.0},
    ]
    assert phase_medians(runs) == [("started", 6.0, 3), ("quoted", 50.0, 3), ("sent", 200.0, 2)]


def test_phase_medians_of_no_runs_is_empty() -> None:
    assert phase_medians([]) == []

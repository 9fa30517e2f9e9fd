"""The comparison of a run: results aggregated over seeds, paired differences, reference
accuracies, training logs read back, ``report.md`` and plots (``write.write_report``).

>>> from qrdistill.report.write import write_report
>>> write_report(cfg, RunDir(cfg.run_dir), collect_results(cfg))
"""

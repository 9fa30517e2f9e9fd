import json

from qrdistill.report.trainlogs import read_loss_curves, read_routing_rates, routing_table


def write_lines(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_routing_rates_last_record_of_an_epoch_wins(tmp_path):
    write_lines(tmp_path / "routing.jsonl", [
        {"epoch": 0, "step": 2, "complete": False, "rates": {"cot": {"a": 1.0, "b": 0.0}}},
        {"epoch": 0, "step": 4, "complete": True, "rates": {"cot": {"a": 0.5, "b": 0.75}}},
        {"epoch": 1, "step": 8, "complete": True, "rates": {"cot": {"a": 0.25}, "tot": {"b": 1.0}}},
    ])
    rates = read_routing_rates(tmp_path)
    assert rates == {0: {"cot": {"a": 0.5, "b": 0.75}}, 1: {"cot": {"a": 0.25}, "tot": {"b": 1.0}}}
    table = routing_table(rates).splitlines()
    assert table[0] == "| epoch | source | a | b |"
    assert "| 0 | cot | 0.50 | 0.75 |" in table and "| 1 | tot | — | 1.00 |" in table


def test_loss_curves_read_per_student_ce(tmp_path):
    write_lines(tmp_path / "metrics.jsonl", [
        {"step": 1, "epoch": 0.1, "ce/a": 2.5, "ce/b": 3.0, "loss": 5.5, "rate/a": 1.0},
        {"step": 2, "epoch": 0.2, "ce/a": 2.0, "ce/b": 2.5, "loss": 4.5},
    ])
    assert read_loss_curves(tmp_path) == {"a": [(1, 2.5), (2, 2.0)], "b": [(1, 3.0), (2, 2.5)]}
    assert read_loss_curves(tmp_path / "missing") == {} and read_routing_rates(tmp_path / "missing") == {}

"""The data stages on questions and paths that an import wrote into the run directory."""

from qrdistill.config import parse_config
from qrdistill.jsonl import read_records, write_records
from qrdistill.pipeline.stages import filter_stage, generate_stage
from qrdistill.records import Path
from qrdistill.rundir import RunDir, run_questions
from qrdistill.synthetic.families import make_questions
from qrdistill.tasks import get_task
from qrdistill.teacher.generate import GenerateSettings, generate_paths


def _imported_run(tmp_path):
    """A run dir as `qrdistill import` leaves it: question files and paths.jsonl for 5 train questions."""
    run = RunDir(tmp_path / "run")
    train, test = make_questions("synth_arith1", 5, 0, "train"), make_questions("synth_arith1", 4, 0, "test")
    write_records(run.questions("synth_arith1", "train"), train)
    write_records(run.questions("synth_arith1", "test"), test)
    settings = GenerateSettings(teacher="synthetic", styles=["cot", "program"])
    write_records(run.paths, generate_paths(train, get_task("synth_arith1"), settings, tmp_path / "part.jsonl", tmp_path / "cache.jsonl"))
    return run, train


def test_limits_apply_to_imported_questions_and_their_paths(tmp_path, capsys):
    run, train = _imported_run(tmp_path)
    cfg = parse_config({
        "run_dir": str(run.root),
        "tasks": [{"name": "synth_arith1", "train_data": str(run.questions("synth_arith1", "train")),
                   "test_data": str(run.questions("synth_arith1", "test")), "limit_train": 2, "limit_test": 3}],
        "filter": {"judge": "none", "verifiers": ["arithmetic"]},
        "students": [{"name": "a", "model": "tiny:smollm2"}],
        "eval": {"style": "plain"},
    })
    questions = run_questions(cfg, run)  # what training and eval read
    assert [q.id for q in questions["synth_arith1"]["train"]] == [q.id for q in train[:2]]
    assert len(questions["synth_arith1"]["test"]) == 3
    paths = generate_stage(cfg, run, questions)  # the imported paths, not the teacher's
    assert len(paths) == 10
    filtered = filter_stage(cfg, run, paths, questions)
    assert {p.question_id for p in filtered} == {q.id for q in train[:2]}
    assert len(read_records(run.filtered, Path)) == 4
    assert "6 of 10 paths belong to training questions outside this run" in capsys.readouterr().err.replace("\n", " ")

"""cooperative_step: the loss it returns is Eq. 9 of the terms it returns, for each kind of method."""

import pytest
import torch
from accelerate import Accelerator

from qrdistill.method.methods import get_method, select_paths
from qrdistill.method.step import cooperative_step, refresh_bare_nll
from qrdistill.train.config import TrainConfig
from qrdistill.train.setup import build_run


@pytest.fixture(scope="module")
def built(tmp_path_factory, data):
    questions = data.make_questions(4)
    paths = select_paths(data.make_paths(questions), "qr_distill")
    cfg = TrainConfig(output_dir=str(tmp_path_factory.mktemp("step")), students=data.tiny_specs(), method="qr_distill",
                      max_steps=1, per_device_train_batch_size=4, lambda_entropy=0.3, lambda_mutual=0.2)
    run, train_data = build_run(cfg, paths, len(paths), questions, Accelerator(cpu=True), sharded=False)
    refresh_bare_nll(run, train_data.cues, batch_size=4)
    return cfg, run, train_data


def test_learned_step_is_eq9_of_its_terms_and_updates_the_student_state(built):
    cfg, run, data = built
    index = [0, 1, 2, 3]
    before = {k: v.clone() for k, v in run.state.state_dict().items()}
    terms = cooperative_step([data.examples[i] for i in index], data.text_emb[index], run, get_method("qr_distill"), cfg)
    expected = terms.distill.sum() + cfg.lambda_entropy * terms.rate + terms.route + cfg.lambda_mutual * terms.peer.total
    assert torch.allclose(terms.loss, expected, rtol=1e-5)
    assert terms.gates.hard.shape == (4, 2) and (terms.gates.hard.sum(dim=1) >= 1).all()
    assert terms.known.any(), "the fixture's paths state the gold answer, so some answer gains are defined"
    assert any(not torch.equal(before[k], v) for k, v in run.state.state_dict().items())


@pytest.mark.parametrize("method", ["no_route", "multi_path"])
def test_unrouted_steps_send_every_path_to_every_student(built, method):
    cfg, run, data = built
    terms = cooperative_step(data.examples[:3], None, run, get_method(method), cfg)
    assert torch.equal(terms.gates.hard, torch.ones(3, 2))
    assert terms.route is None and terms.rate is None
    assert (terms.peer is not None) == get_method(method).peer
    peer = cfg.lambda_mutual * terms.peer.total if terms.peer is not None else 0.0
    assert torch.allclose(terms.loss, terms.distill.sum() + peer, rtol=1e-5)
    assert torch.allclose(terms.distill, terms.token_loss.mean(dim=0), rtol=1e-5)

"""Backbones (every registered one, offline) and fine-tuning strategies (every one)."""

from __future__ import annotations

import hashlib
import shutil

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from augment_core.errors import AugLabError
from augment_core.experiment import backbones
from augment_core.experiment.backbones import create_backbone, get_backbone_info, list_backbones, resnet18_cache_path
from augment_core.experiment.models import MobileNetV3Small, ResNet18, init_weights
from augment_core.experiment.spec import STRATEGIES, ExperimentSpec
from augment_core.experiment.training import apply_strategy, build_classifier, make_optimizer


def serve_checkpoint(tmp_path, monkeypatch, name: str, model: torch.nn.Module, extra: dict[str, torch.Tensor],
                     setting: str) -> tuple[object, dict[str, torch.Tensor]]:
    """Save a torchvision-style checkpoint (with its classifier) as ``<name>-<sha256[:8]>.pth`` behind a file:// URL."""
    init_weights(model, torch.Generator().manual_seed(7))
    state = {**model.state_dict(), **extra}
    raw = tmp_path / f"{name}.raw"
    torch.save(state, raw)
    digest = hashlib.sha256(raw.read_bytes()).hexdigest()
    served = tmp_path / "server" / f"{name}-{digest[:8]}.pth"
    served.parent.mkdir(exist_ok=True)
    shutil.move(raw, served)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv(setting, served.as_uri())
    return served, state


@pytest.fixture
def resnet_checkpoint(tmp_path, monkeypatch):
    """Torchvision-style ResNet-18 (with ``fc``) and MobileNetV3-Small (with ``classifier``) checkpoints via file://."""
    serve_checkpoint(tmp_path, monkeypatch, "mobilenet_v3_small", MobileNetV3Small(),
                     {"classifier.0.weight": torch.zeros(1024, 576), "classifier.0.bias": torch.zeros(1024),
                      "classifier.3.weight": torch.zeros(1000, 1024), "classifier.3.bias": torch.zeros(1000)},
                     "AUGLAB_MOBILENET_URL")
    return serve_checkpoint(tmp_path, monkeypatch, "resnet18", ResNet18(),
                            {"fc.weight": torch.zeros(1000, 512), "fc.bias": torch.zeros(1000)}, "AUGLAB_RESNET18_URL")


@pytest.mark.parametrize("name", list_backbones())
def test_every_backbone_builds_offline(name, resnet_checkpoint):
    info = get_backbone_info(name)
    assert info.description and info.input_size >= 32 and len(info.mean) == 3 and len(info.std) == 3
    model = create_backbone(name, generator=torch.Generator().manual_seed(0)).eval()
    with torch.no_grad():
        features = model(torch.randn(2, 3, 32, 32))
    assert features.shape == (2, model.feature_dim) and torch.isfinite(features).all()
    assert len(model.blocks) >= 3 and model.pool is not None


def test_registry_default_is_the_embedded_offline_backbone():
    assert list_backbones()[0] == "smallcnn-synthetic" == ExperimentSpec().backbone
    assert not get_backbone_info("smallcnn-synthetic").downloads and get_backbone_info("resnet18-imagenet").downloads
    assert backbones.SMALLCNN_WEIGHTS.stat().st_size < 4_000_000
    with pytest.raises(AugLabError, match="Unknown backbone"):
        get_backbone_info("vit-huge")


def test_embedded_weights_are_checksum_verified(tmp_path, monkeypatch):
    a = create_backbone("smallcnn-synthetic").state_dict()
    b = create_backbone("smallcnn-synthetic").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "pretrained weights do not depend on the seed"
    tampered = tmp_path / "w.pt"
    data = bytearray(backbones.SMALLCNN_WEIGHTS.read_bytes())
    data[-100] ^= 1
    tampered.write_bytes(bytes(data))
    monkeypatch.setattr(backbones, "SMALLCNN_WEIGHTS", tampered)
    with pytest.raises(AugLabError, match="checksum"):
        create_backbone("smallcnn-synthetic")
    monkeypatch.setattr(backbones, "SMALLCNN_WEIGHTS", tmp_path / "missing.pt")
    with pytest.raises(AugLabError, match="missing"):
        create_backbone("smallcnn-synthetic")


def test_scratch_backbone_follows_the_seed():
    a, b, c = (create_backbone("smallcnn-scratch", generator=torch.Generator().manual_seed(s)).state_dict() for s in (1, 1, 2))
    key = "blocks.1.0.0.weight"
    assert torch.equal(a[key], b[key]) and not torch.equal(a[key], c[key])


def test_resnet18_downloads_once_with_hash_check_and_torchvision_names(resnet_checkpoint):
    served, state = resnet_checkpoint
    model = create_backbone("resnet18-imagenet")
    loaded = model.state_dict()
    assert len(loaded) == 120 and "layer2.0.downsample.0.weight" in loaded and "layer4.1.bn2.running_var" in loaded
    assert all(torch.equal(loaded[k], state[k]) for k in loaded)
    cached = resnet18_cache_path()
    assert cached.exists() and cached.parent.name == "checkpoints"
    served.unlink()  # offline from now on: the cache must be used
    again = create_backbone("resnet18-imagenet").state_dict()
    assert torch.equal(again["conv1.weight"], state["conv1.weight"])


def test_resnet18_bad_hash_and_no_network_are_refused(resnet_checkpoint, monkeypatch, tmp_path):
    served, _ = resnet_checkpoint
    wrong = served.with_name("resnet18-00000000.pth")
    shutil.copy(served, wrong)
    monkeypatch.setenv("AUGLAB_RESNET18_URL", wrong.as_uri())
    with pytest.raises(AugLabError, match="failed their check"):
        create_backbone("resnet18-imagenet")
    monkeypatch.setenv("AUGLAB_RESNET18_URL", (tmp_path / "nowhere" / "resnet18-12345678.pth").as_uri())
    with pytest.raises(AugLabError, match="Could not download"):
        create_backbone("resnet18-imagenet")


def test_mobilenet_downloads_with_progress_checks_and_works_offline(resnet_checkpoint, tmp_path):
    served = next((tmp_path / "server").glob("mobilenet_v3_small-*.pth"))
    assert not backbones.weights_cached("mobilenetv3-imagenet")
    seen: list[tuple[int, int]] = []
    path = backbones.fetch_weights("mobilenetv3-imagenet", progress=lambda got, total: seen.append((got, total)))
    assert path.exists() and seen and seen[-1][0] == served.stat().st_size and backbones.weights_cached("mobilenetv3-imagenet")
    served.unlink()  # offline from now on
    model = create_backbone("mobilenetv3-imagenet")
    keys = model.state_dict()
    # torchvision's names: the first block has no expansion conv, SE convs are fc1/fc2, the last conv is features.12
    assert "features.1.block.1.fc1.weight" in keys and "features.12.0.weight" in keys and "features.4.block.0.0.weight" in keys
    assert sum(p.numel() for p in model.parameters()) == 927_008  # torchvision: 2,542,856 minus the 1,615,848 of its classifier
    assert sum(p.numel() for p in ResNet18().parameters()) == 11_176_512  # torchvision: 11,689,512 minus fc's 513,000


def test_a_checkpoint_with_other_names_and_a_url_without_hash_are_refused(tmp_path, monkeypatch):
    serve_checkpoint(tmp_path, monkeypatch, "mobilenet_v3_small", ResNet18(), {}, "AUGLAB_MOBILENET_URL")
    with pytest.raises(AugLabError, match="parameter names"):
        create_backbone("mobilenetv3-imagenet")
    monkeypatch.setenv("AUGLAB_MOBILENET_URL", (tmp_path / "weights.pth").as_uri())
    with pytest.raises(AugLabError, match="sha256 prefix"):
        backbones.fetch_weights("mobilenetv3-imagenet")


def _frozen_and_trainable(model):
    trainable = {id(p) for p in model.body.parameters()}
    frozen = [p for p in model.prefix.parameters()]
    assert not any(id(p) in trainable for p in frozen)
    return frozen, list(model.body.parameters())


@pytest.mark.parametrize("backbone", list_backbones())
@pytest.mark.parametrize("strategy", list(STRATEGIES))
def test_strategies_freeze_exactly_what_they_say(strategy, backbone, resnet_checkpoint):
    initial = build_classifier(backbone, 3, seed=0)
    model = apply_strategy(initial, strategy)
    spec = ExperimentSpec(strategy=strategy, backbone=backbone, lr=0.05, backbone_lr_factor=0.1)
    optimizer = make_optimizer(model, spec)
    frozen, trainable = _frozen_and_trainable(model)
    assert len(trainable) > 0 and (strategy == "all") == (len(frozen) == 0)
    prefix_state = {k: v.clone() for k, v in model.prefix.state_dict().items()}
    before = [p.detach().clone() for p in trainable]
    model.train()
    bns = [m for m in model.prefix.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(not m.training for m in bns), "frozen BatchNorm stays in eval mode"
    x, y = torch.randn(4, 3, 32, 32, generator=torch.Generator().manual_seed(1)), torch.tensor([0, 1, 2, 0])
    loss = F.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    assert all(p.grad is None for p in frozen)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in trainable if p.dim() > 1)
    optimizer.step()
    after = model.prefix.state_dict()
    assert all(torch.equal(prefix_state[k], after[k]) for k in prefix_state), "frozen weights and BN statistics unchanged"
    assert all(not torch.equal(b, p) for b, p in zip(before, trainable) if p.dim() > 1)
    lrs = {g["name"]: g["lr"] for g in optimizer.param_groups}
    if strategy == "all":
        assert lrs == {"backbone": pytest.approx(0.005), "head": pytest.approx(0.05)}
    else:
        assert lrs == {"head": pytest.approx(0.05)}


def test_strategy_copies_the_initial_model_so_arms_start_equal():
    initial = build_classifier("smallcnn-scratch", 3, seed=5)
    a, b = apply_strategy(initial, "all"), apply_strategy(initial, "all")
    sa, sb = a.state_dict(), b.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    next(a.body.parameters()).data.add_(1.0)
    assert not torch.equal(next(a.body.parameters()), next(b.body.parameters()))
    head_a = build_classifier("smallcnn-synthetic", 3, seed=5).head.weight
    head_b = build_classifier("smallcnn-synthetic", 3, seed=6).head.weight
    assert not torch.equal(head_a, head_b) and torch.equal(head_a, build_classifier("smallcnn-synthetic", 3, seed=5).head.weight)


@pytest.mark.parametrize("backbone", list_backbones())
def test_every_backbone_runs_an_experiment(backbone, resnet_checkpoint):
    from augment_core.experiment.runner import run_experiment

    spec = ExperimentSpec(dataset="shapes", dataset_options={"per_class": 6}, backbone=backbone, strategy="last_block",
                          epochs=1, seeds=1, train_per_class=3, batch_size=6)
    result = run_experiment(spec)
    assert result.status == "completed", result.message
    assert len(result.epochs) == 2 and all(np.isfinite(e.val_loss) for e in result.epochs)

"""Experiment specs (``experiments/<name>.yaml``) and their links to the taxonomy.

A spec names the taxonomy ids it tests, the claim(s) of Li et al. it informs,
the seeds, a base trainer config and per-profile overrides (``quick`` runs on
the embedded data on a laptop CPU; ``full`` is larger and can read real
datasets with ``--data-root``). ``variants`` are configurations that differ
only in loss weights (ranked by final L_syn versus by depth error).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sins.catalog.errors import Problem, unknown_id_message
from sins.catalog.taxonomy import Taxonomy
from sins.catalog.yamlio import Lines, parse, read_text

CLAIMS = {
    1: "Lowering the synthesis loss does not necessarily lower depth error (training curves can diverge).",
    2: "Even the ground-truth disparity does not minimise the synthesis loss (the oracle gap).",
    3: "Per pixel, the loss minimum is off the truth at aleatoric causes (specular, occlusion, textureless, repetitive).",
    4: "Common regularisers (smoothness and the like) do not remove the divergence.",
    5: "The phenomenon holds across domains (street, indoor, medical) and architectures.",
}


class ExperimentSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    title: str
    question: str
    tests: list[str] = Field(min_length=1, description="taxonomy loss ids this experiment tests")
    architecture: list[str] = Field(min_length=1, description="taxonomy architecture ids")
    supervision: str = Field(description="taxonomy supervision id: what trains the networks of this experiment")
    input: str = Field(description="taxonomy inputs id: what the network takes at test time")
    domain: str
    claims: list[int] = Field(default_factory=list)
    twin: str = Field("", description="the experiment whose base config is this one without the tested regulariser")
    twin_config: str = Field("", description="with twin: the twin's configuration (one of its variants) that this "
                             "spec's base pairs with, where the base shares a change with that variant rather than "
                             "with the twin's base (default: the twin's base)")
    twin_variant: str = Field("", description="the variant of this spec that is the unregularised twin of the others")
    cites: list[str] = Field(default_factory=list, description="catalog keys of the papers whose definitions of the "
                             "tested terms the experiment follows")
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], description="at least three, all different")
    config: dict[str, Any] = Field(description="trainer config shared by every profile")
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    variants: dict[str, dict[str, Any]] = Field(default_factory=dict)
    seed_sets_scene: bool = Field(False, description="the seed also picks the procedural scenes, which are both trained "
                                  "and evaluated (per-scene models such as a per-pixel field, which do not generalise)")
    real_data: dict[str, Any] = Field(default_factory=dict, description="data overrides used by the full profile "
                                      "with --data-root (data.root is relative to it)")

    @field_validator("seeds")
    @classmethod
    def _seeds(cls, v: list[int]) -> list[int]:
        if len(v) < 3 or len(set(v)) != len(v):
            raise ValueError(f"seeds {v} are not enough for a verdict: give at least three different seeds, e.g. [0, 1, 2]")
        return v

    @field_validator("variants")
    @classmethod
    def _variant_names(cls, v: dict) -> dict:
        if "base" in v:
            raise ValueError("'base' names the spec's own configuration; call the variant something else")
        return v

    @model_validator(mode="after")
    def _profile_seeds(self):
        for name, prof in self.profiles.items():
            seeds = prof.get("seeds")
            if seeds is not None and (not isinstance(seeds, list) or len(seeds) < 3 or len(set(seeds)) != len(seeds)):
                raise ValueError(f"profiles.{name}.seeds {seeds!r}: give at least three different seeds, e.g. [0, 1, 2, 3, 4]")
        if self.twin_config and not self.twin:
            raise ValueError(f"twin_config {self.twin_config!r} names a configuration of the twin: set twin as well")
        if self.twin_variant and self.twin_variant not in self.variants:
            raise ValueError(f"twin_variant {self.twin_variant!r} is not one of the variants ({', '.join(self.variants) or 'none'})")
        return self

    def seeds_for(self, profile: str) -> list[int]:
        """The seeds of a profile: its own ``seeds`` when it sets them, else the spec's."""
        return list(self.profiles.get(profile, {}).get("seeds") or self.seeds)

    def config_for(self, profile: str, seed: int, variant: str | None = None,
                   data_root: str | Path | None = None) -> dict[str, Any]:
        """The trainer config of one run: base, then the profile's, then the variant's overrides; with
        ``data_root`` (and ``real_data`` in the spec) the data section reads a real dataset under it."""
        if profile not in self.profiles:
            raise KeyError(f"experiment {self.name!r} has no profile {profile!r} (it has: {', '.join(self.profiles)})")
        cfg = merge(copy.deepcopy(self.config), {k: v for k, v in self.profiles[profile].items() if k != "seeds"})
        if variant is not None:
            cfg = merge(cfg, self.variants[variant])
        cfg["seed"] = seed
        if data_root is not None and self.real_data:
            real = copy.deepcopy(self.real_data)
            real["root"] = str(Path(data_root) / str(real.get("root", "")))
            cfg["data"] = merge(cfg.get("data", {}), real)
        elif self.seed_sets_scene:  # the per-scene model is trained and evaluated on the same scenes
            held = cfg.setdefault("heldout", {})
            n = int(held.get("count", 16))
            data = cfg.setdefault("data", {})
            data["seed"], data["count"] = 10000 + 100 * seed, n
            held["seeds"] = list(range(data["seed"], data["seed"] + n))
            cfg.setdefault("optim", {})["batch"] = n
        cfg["name"] = f"{self.name}" + (f"-{variant}" if variant else "") + f"-s{seed}"
        return cfg


def merge(base: dict, over: dict) -> dict:
    """Recursive dict update (lists and scalars replace)."""
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            merge(base[k], v)
        else:
            base[k] = copy.deepcopy(v)
    return base


def load_specs(folder: str | Path = "experiments") -> tuple[dict[str, ExperimentSpec], list[Problem]]:
    folder = Path(folder)
    specs: dict[str, ExperimentSpec] = {}
    problems: list[Problem] = []
    for path in sorted(folder.glob("*.yaml")):
        shown = str(path)
        text, probs = read_text(path, shown)
        data = None
        if text is not None:
            data, probs = parse(text, shown, floats=True)
        problems += probs
        if not isinstance(data, dict):
            if not probs:
                problems.append(Problem(shown, 1, "", "expected a mapping (an experiment spec)"))
            continue
        try:
            spec = ExperimentSpec.model_validate(data)
        except ValidationError as err:
            lines = Lines(text or "")
            for e in err.errors(include_url=False):
                loc = tuple(e["loc"])
                msg = e["msg"].removeprefix("Value error, ")
                if e["type"] == "extra_forbidden":
                    msg = unknown_id_message("field", str(loc[-1]), ExperimentSpec.model_fields)
                problems.append(Problem(shown, lines.line(loc), ".".join(map(str, loc)), msg))
            continue
        if spec.name != path.stem:
            problems.append(Problem(shown, Lines(text or "").line(("name",)), "name", f"name {spec.name!r} differs from the file name {path.name!r}"))
        specs[spec.name] = spec
    return specs, problems


def check_links(specs: dict[str, ExperimentSpec], taxonomy: Taxonomy, folder: str = "experiments") -> list[Problem]:
    """Every id a spec tests exists, and the taxonomy links back to the spec (and only to real specs)."""
    problems: list[Problem] = []
    for spec in specs.values():
        shown = f"{folder}/{spec.name}.yaml"
        for group, ids, kind in (("losses", spec.tests, "loss term"), ("architectures", spec.architecture, "architecture")):
            for i in ids:
                if i not in taxonomy.ids(group):
                    problems.append(Problem(shown, 0, "tests" if group == "losses" else "architecture", unknown_id_message(kind, i, taxonomy.ids(group))))
                elif group == "losses" and spec.name not in taxonomy.losses[i].experiments:
                    problems.append(Problem("catalog/taxonomy.yaml", 0, f"losses.{i}.experiments", f"does not list {spec.name!r}, which tests {i!r}"))
        for fname, group, kind in (("supervision", "supervision", "training signal"), ("input", "inputs", "test-time input")):
            if getattr(spec, fname) not in taxonomy.ids(group):
                problems.append(Problem(shown, 0, fname, unknown_id_message(kind, getattr(spec, fname), taxonomy.ids(group))))
        if spec.domain not in taxonomy.ids("domains"):
            problems.append(Problem(shown, 0, "domain", unknown_id_message("domain", spec.domain, taxonomy.ids("domains"))))
        if spec.twin and spec.twin not in specs:
            problems.append(Problem(shown, 0, "twin", unknown_id_message("experiment", spec.twin, specs)))
        elif spec.twin_config and spec.twin_config not in specs[spec.twin].variants:
            problems.append(Problem(shown, 0, "twin_config", unknown_id_message(
                f"configuration of {spec.twin!r}", spec.twin_config, specs[spec.twin].variants)))
    for group in ("losses", "architectures", "supervision", "inputs", "domains", "datasets"):
        for tid, term in taxonomy.group(group).items():
            for name in term.experiments:
                if name not in specs:
                    problems.append(Problem("catalog/taxonomy.yaml", 0, f"{group}.{tid}.experiments", unknown_id_message("experiment", name, specs)))
                elif group == "losses" and tid not in specs[name].tests:
                    problems.append(Problem("catalog/taxonomy.yaml", 0, f"{group}.{tid}.experiments", f"{name!r} does not list {tid!r} in its tests"))
    return problems

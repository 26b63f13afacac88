"""The controlled vocabularies of ``catalog/taxonomy.yaml``."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

#: the taxonomy's groups, with the word used in messages and the Paper field that uses it
GROUPS: dict[str, tuple[str, str]] = {
    "losses": ("loss term", "losses"),
    "supervision": ("training signal", "supervision"),
    "inputs": ("test-time input", "input"),
    "architectures": ("architecture", "architecture"),
    "domains": ("domain", "domains"),
    "datasets": ("dataset", "datasets"),
}


class Term(BaseModel):
    """One id of the taxonomy."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    description: str = Field(min_length=1)
    formula: str = ""
    experiments: list[str] = Field(default_factory=list)
    #: dotted path of the function that implements a loss term (sins.experiments.losses.<name>)
    implementation: str = ""
    #: why a term used by papers has no experiment here, when it has none
    untested_because: str = ""


class Taxonomy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    losses: dict[str, Term]
    supervision: dict[str, Term]
    inputs: dict[str, Term]
    architectures: dict[str, Term]
    domains: dict[str, Term]
    datasets: dict[str, Term]

    def group(self, name: str) -> dict[str, Term]:
        return getattr(self, name)

    def ids(self, name: str) -> set[str]:
        return set(self.group(name))

    def for_field(self, paper_field: str) -> tuple[str, str]:
        """The (group, kind word) that validates a Paper field."""
        for group, (kind, field) in GROUPS.items():
            if field == paper_field:
                return group, kind
        raise KeyError(paper_field)
